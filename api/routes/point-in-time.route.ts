import type { JSONSchemaType } from 'ajv';
import { accountView } from '../../domain/account/account.view';
import type { EventStore } from '../../domain/ports/event-store.port';
import { accountAt, type PointInTime } from '../../projections/point-in-time';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { validateParams, validateQuery } from '../middleware/validate';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { idSchema, instantSchema } from '../schemas/common.schema';
import { maySee } from './accounts.route';
import { requireScope } from '../middleware/require-scope';

/**
 * GET /v1/accounts/{id}/balance?at=<position> or ?asOf=<instant>: the account as it was then,
 * folded from its stream in the event log (not the read model), for whoever may see the account.
 */
type BalanceQuery = { at?: string; asOf?: string };

const balanceSchema: JSONSchemaType<BalanceQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    at: { type: 'string', pattern: '^[0-9]{1,20}$', nullable: true },
    asOf: { ...instantSchema, nullable: true },
  },
};
const paramsSchema: JSONSchemaType<{ accountId: string }> = {
  type: 'object',
  additionalProperties: false,
  properties: { accountId: idSchema },
  required: ['accountId'],
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
      async (ctx) => {
        const { accountId } = params.read(ctx);
        const { at, asOf } = query.read(ctx);
        if ((at === undefined) === (asOf === undefined)) {
          sendError(ctx, 'invalid_request', {
            msg: 'give exactly one of ?at=<log position> and ?asOf=<ISO 8601 instant>',
            data: { field: at === undefined ? 'at' : 'asOf' },
          });
          return;
        }
        const point: PointInTime =
          at === undefined ? { asOfMs: Date.parse(asOf as string) } : { position: BigInt(at) };
        const { state, position } = await accountAt(deps.eventStore, accountId, point);
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
      },
    );
  };
