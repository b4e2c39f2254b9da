import type { JSONSchemaType } from 'ajv';
import { accountConstraints, type AccountConstraint } from '../../domain/account/account.decider';
import { accountView } from '../../domain/account/account.view';
import { holdsScopeOn } from '../../domain/auth/grants';
import type { Scope } from '../../domain/auth/scopes';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendError, sendOk } from '../envelope';
import { accessOf, clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams, validateQuery } from '../middleware/validate';
import { currencySchema, idSchema } from '../schemas/common.schema';
import type { StoredResponse } from '../../domain/ports/idempotency-store.port';
import { executeLedgerRequest, forOnly, outcomeResponse, single } from './ledger-answers';
import { positionJson, type LedgerServices } from './ledger-services';
import { maySee, type OpenedAccount } from './account-visibility';
import { pointInTimeProperties, sendAccountAt, type BalanceQuery } from './point-in-time.route';
import { holderSchema, holderView, sealHolder, type HolderBody } from '../personal-data';

type OpenAccountBody = {
  accountId: string;
  currency: string;
  constraint?: AccountConstraint;
  metadata?: Record<string, string>;
  holder?: HolderBody;
};
const METADATA_ENTRIES_MAX = 16;
const openAccountSchema: JSONSchemaType<OpenAccountBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['accountId', 'currency'],
  properties: {
    accountId: idSchema,
    currency: currencySchema,
    constraint: {
      type: 'string',
      enum: [...accountConstraints],
      nullable: true,
    },
    metadata: {
      type: 'object',
      nullable: true,
      maxProperties: METADATA_ENTRIES_MAX,
      propertyNames: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
      additionalProperties: { type: 'string', maxLength: 256 },
      required: [],
    },
    holder: { ...holderSchema, nullable: true },
  },
};
const accountParamsSchema: JSONSchemaType<{ accountId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['accountId'],
  properties: { accountId: idSchema },
};
// Other query parameters stay ignored, as before; `at` and `asOf` ask for a point of the log.
const accountQuerySchema: JSONSchemaType<BalanceQuery> = {
  type: 'object',
  additionalProperties: true,
  properties: pointInTimeProperties,
};

/**
 * The account if it exists and the caller may see it (or holds grantScope on `account:<id>`
 * through a grant); otherwise answers 404 and returns null.
 */
export const visibleAccount = async (
  services: LedgerServices,
  ctx: Parameters<typeof sendError>[0] & { state: Parameters<typeof clientOf>[0]['state'] },
  accountId: string,
  grantScope: Scope | null = null,
): Promise<{ account: OpenedAccount; position: bigint | null } | null> => {
  const { state, position } = await services.ledger.account(accountId);
  const granted =
    grantScope !== null && holdsScopeOn(accessOf(ctx), grantScope, `account:${accountId}`);
  if (state.status === 'unopened' || !(granted || maySee(clientOf(ctx), state))) {
    sendError(ctx, 'account_not_found', { data: { accountId } });
    return null;
  }
  return { account: state, position };
};

export const accountRoutes =
  (services: LedgerServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const body = validateBody(openAccountSchema);
    const params = validateParams(accountParamsSchema);
    const writers = requireScope('accounts:write');

    kit.router.post(
      '/accounts',
      writers,
      kit.jsonBody(),
      body,
      kit.ledgerIdempotency(),
      async (ctx) => {
        const { accountId, currency, constraint = 'none', metadata = {}, ...rest } = body.read(ctx);
        const ownerClientId = clientOf(ctx).clientId;
        const holder = await sealHolder(services.personalData, rest.holder);
        const data = {
          accountId,
          ownerClientId,
          currency,
          constraint,
          metadata,
          ...(holder === undefined ? {} : { holder }),
        };
        const context = commandContext(ctx, services.nowMs());
        const commands = single({ type: 'OpenAccount', data });
        await executeLedgerRequest(
          ctx,
          services,
          { commands, context },
          forOnly((outcome) =>
            withAccountContext(
              outcomeResponse(outcome, (changed) => (changed ? 201 : 200)),
              accountId,
            ),
          ),
        );
      },
    );

    const query = validateQuery(accountQuerySchema);
    const readers = requireScope('accounts:read');
    kit.router.get('/accounts/:accountId', readers, params, query, async (ctx) => {
      const { accountId } = params.read(ctx);
      const point = query.read(ctx);
      if ((point.at ?? point.asOf) !== undefined && services.eventStore !== undefined) {
        await sendAccountAt(ctx, services.eventStore, accountId, point);
        return;
      }
      const found = await visibleAccount(services, ctx, accountId, 'accounts:read');
      if (found === null) return;
      const holder = await holderView(ctx, services.personalData, found.account.holder, {
        type: 'account',
        id: accountId,
      });
      sendOk(ctx, {
        account: { ...accountView(found.account), ...(holder === null ? {} : { holder }) },
        position: positionJson(found.position),
      });
    });

    kit.router.post(
      '/accounts/:accountId/close',
      writers,
      params,
      kit.jsonBody({ required: false }),
      kit.ledgerIdempotency(),
      async (ctx) => {
        const { accountId } = params.read(ctx);
        if ((await visibleAccount(services, ctx, accountId)) === null) return;
        const context = commandContext(ctx, services.nowMs());
        const commands = single({ type: 'CloseAccount', data: { accountId } });
        await executeLedgerRequest(
          ctx,
          services,
          { commands, context },
          forOnly((outcome) =>
            withAccountContext(withoutLocation(outcomeResponse(outcome, () => 200)), accountId),
          ),
        );
      },
    );
  };

const withoutLocation = (response: StoredResponse): StoredResponse => ({
  ...response,
  headers: {},
});

/** Rejections of account commands name the account in data, as they always have. */
const withAccountContext = (response: StoredResponse, accountId: string): StoredResponse => {
  if (response.status < 400) return response;
  const body = response.body as { data: Record<string, unknown> | null };
  return { ...response, body: { ...body, data: { ...(body.data ?? {}), accountId } } };
};
