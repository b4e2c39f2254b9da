import type { JSONSchemaType } from 'ajv';
import {
  accountAggregate,
  accountConstraints,
  type AccountConstraint,
  type AccountState,
} from '../../domain/account/account.decider';
import { accountView } from '../../domain/account/account.view';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendError, sendOk } from '../envelope';
import { clientOf, type AuthenticatedClient } from '../middleware/api-state';
import { requireRole } from '../middleware/authenticate';
import { validateBody, validateParams } from '../middleware/validate';
import { currencySchema, idSchema } from '../schemas/common.schema';
import { positionJson, type LedgerServices } from './ledger-services';
import { sendRejection } from './rejection';

type OpenAccountBody = {
  accountId: string;
  currency: string;
  constraint?: AccountConstraint;
  metadata?: Record<string, string>;
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
  },
};
export const accountParamsSchema: JSONSchemaType<{ accountId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['accountId'],
  properties: { accountId: idSchema },
};

type OpenedAccount = Exclude<AccountState, { status: 'unopened' }>;

/** Admins and auditors see every account; other clients only the ones they opened. */
export const maySee = (client: AuthenticatedClient, account: OpenedAccount): boolean =>
  client.role === 'admin' || client.role === 'auditor' || account.ownerClientId === client.clientId;

/** The account if it exists and the caller may see it; otherwise answers 404 and returns null. */
export const visibleAccount = async (
  services: LedgerServices,
  ctx: Parameters<typeof sendError>[0] & { state: Parameters<typeof clientOf>[0]['state'] },
  accountId: string,
): Promise<{ account: OpenedAccount; position: bigint | null } | null> => {
  const { state, position } = await services.runtime.read(accountAggregate, accountId);
  if (state.status === 'unopened' || !maySee(clientOf(ctx), state)) {
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
    const writers = requireRole('admin', 'merchant');

    kit.router.post('/accounts', writers, kit.jsonBody(), body, kit.idempotency(), async (ctx) => {
      const { accountId, currency, constraint = 'none', metadata = {} } = body.read(ctx);
      const context = commandContext(ctx, services.nowMs());
      const data = {
        accountId,
        ownerClientId: clientOf(ctx).clientId,
        currency,
        constraint,
        metadata,
        now: context.now,
      };
      const outcome = await services.runtime.execute(
        accountAggregate,
        accountId,
        { type: 'OpenAccount', data },
        context,
      );
      if (!outcome.ok) return sendRejection(ctx, outcome.rejection, outcome.detail, { accountId });
      if (outcome.state.status === 'unopened')
        throw new Error('OpenAccount accepted but account unopened');
      ctx.set('Location', `/v1/accounts/${accountId}`);
      sendOk(
        ctx,
        { account: accountView(outcome.state), position: positionJson(outcome.position) },
        outcome.eventCount > 0 ? 201 : 200,
      );
    });

    kit.router.get('/accounts/:accountId', params, async (ctx) => {
      const found = await visibleAccount(services, ctx, params.read(ctx).accountId);
      if (found !== null)
        sendOk(ctx, {
          account: accountView(found.account),
          position: positionJson(found.position),
        });
    });

    kit.router.post(
      '/accounts/:accountId/close',
      writers,
      params,
      kit.jsonBody({ required: false }),
      kit.idempotency(),
      async (ctx) => {
        const { accountId } = params.read(ctx);
        if ((await visibleAccount(services, ctx, accountId)) === null) return;
        const context = commandContext(ctx, services.nowMs());
        const outcome = await services.runtime.execute(
          accountAggregate,
          accountId,
          { type: 'CloseAccount', data: { now: context.now } },
          context,
        );
        if (!outcome.ok)
          return sendRejection(ctx, outcome.rejection, outcome.detail, { accountId });
        if (outcome.state.status === 'unopened')
          throw new Error('CloseAccount accepted but account unopened');
        sendOk(ctx, {
          account: accountView(outcome.state),
          position: positionJson(outcome.position),
        });
      },
    );
  };
