import type { JSONSchemaType } from 'ajv';
import { accountView } from '../../domain/account/account.view';
import type { EventStore } from '../../domain/ports/event-store.port';
import { accountAt, type PointInTime } from '../../projections/point-in-time';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { validateParams, validateQuery } from '../middleware/validate';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { idSchema, instantSchema } from '../schemas/common.schema';
import { maySee } from './account-visibility';
import { requireScope } from '../middleware/require-scope';

/**
 * GET /v1/accounts/{id}/balance?at=<position> or ?asOf=<instant>: the account as it was then,
 * folded from its stream in the event log (not the read model), for whoever may see the account.
 * GET /v1/accounts/{id} answers the same when given `at` or `asOf` (accounts.route.ts).
 */
export type BalanceQuery = { at?: string; asOf?: string };

export const pointInTimeProperties = {
  at: { type: 'string', pattern: '^[0-9]{1,20}$', nullable: true },
  asOf: { ...instantSchema, nullable: true },
} as const;

const balanceSchema: JSONSchemaType<BalanceQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: pointInTimeProperties,
};
const paramsSchema: JSONSchemaType<{ accountId: string }> = {
  type: 'object',
  additionalProperties: false,
  properties: { accountId: idSchema },
  required: ['accountId'],
};

type Context = Parameters<typeof sendOk>[0] & Parameters<typeof clientOf>[0];

/** Answers the account at `at` or `asOf` (exactly one, else 400 naming it), or 404. */
export const sendAccountAt = async (
  ctx: Context,
  eventStore: EventStore,
  accountId: string,
  { at, asOf }: BalanceQuery,
): Promise<void> => {
  if ((at === undefined) === (asOf === undefined)) {
    sendError(ctx, 'invalid_request', {
      msg: 'give exactly one of ?at=<log position> and ?asOf=<ISO 8601 instant>',
      data: { field: at === undefined ? 'at' : 'asOf' },
    });
    return;
  }
  const point: PointInTime =
    at === undefined ? { asOfMs: Date.parse(asOf as string) } : { position: BigInt(at) };
  const { state, position } = await accountAt(eventStore, accountId, point);
  if (state.status === 'unopened' || !maySee(clientOf(ctx), state)) {
    sendError(ctx, 'account_not_found', {
      msg: 'no such account at that point of the log',
      data: { accountId },
    });
    return;
  }
  sendOk(ctx, {
    accountId,
    at: at === undefined ? { asOf } : { position: at },
    account: accountView(state),
    position: position === null ? null : position.toString(),
  });
};

export const pointInTimeRoutes =
  (deps: { eventStore: EventStore }): RouteRegistrar =>
  (kit: RouteKit) => {
    const params = validateParams(paramsSchema);
    const query = validateQuery(balanceSchema);
    kit.router.get(
      '/accounts/:accountId/balance',
      requireScope('accounts:read'),
      params,
      query,
      (ctx) => sendAccountAt(ctx, deps.eventStore, params.read(ctx).accountId, query.read(ctx)),
    );
  };
