import type { JSONSchemaType } from 'ajv';
import { ACCOUNTS, ENTRIES } from '../../../projections/accounts.projection';
import { TRANSFERS } from '../../../projections/transfers.projection';
import { viewOf } from '../../../projections/projection';
import { sendError, sendOk } from '../../envelope';
import { clientOf } from '../../middleware/api-state';
import { requireScope } from '../../middleware/require-scope';
import { validateParams, validateQuery } from '../../middleware/validate';
import type { RouteKit, RouteRegistrar } from '../../route-kit';
import { currencySchema, idSchema } from '../../schemas/common.schema';
import {
  commonQueryProperties,
  findDocument,
  findPage,
  instantFilterSchema,
  prepareQuery,
  rangeOf,
  seesAll,
  type CommonQuery,
  type QueryCtx,
  type QueryDeps,
} from './query-kit';

/** Accounts (balances), an account's entries (a statement, newest first) and transfers. */
type AccountsQuery = CommonQuery & {
  owner_client_id?: string;
  currency?: string;
  status?: 'open' | 'closed';
};
type EntriesQuery = CommonQuery;
type TransfersQuery = CommonQuery & {
  status?: string;
  debit_account_id?: string;
  credit_account_id?: string;
  requested_from?: string;
  requested_to?: string;
};

const accountsSchema: JSONSchemaType<AccountsQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...commonQueryProperties,
    owner_client_id: { ...idSchema, nullable: true },
    currency: { ...currencySchema, nullable: true },
    status: { type: 'string', enum: ['open', 'closed'], nullable: true },
  },
};
const entriesSchema: JSONSchemaType<EntriesQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: commonQueryProperties,
};
const transferStatuses = [
  'requested',
  'posted',
  'pending',
  'rejected',
  'post_requested',
  'void_requested',
  'voided',
];
const transfersSchema: JSONSchemaType<TransfersQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...commonQueryProperties,
    status: { type: 'string', enum: transferStatuses, nullable: true },
    debit_account_id: { ...idSchema, nullable: true },
    credit_account_id: { ...idSchema, nullable: true },
    requested_from: instantFilterSchema,
    requested_to: instantFilterSchema,
  },
};
const accountParams: JSONSchemaType<{ accountId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['accountId'],
  properties: { accountId: idSchema },
};

/** Merchants may only name themselves as the owner; null means "answered with 403". */
const ownerScope = (ctx: QueryCtx, requested: string | undefined): string | undefined | null => {
  if (seesAll(ctx)) return requested;
  const own = clientOf(ctx).clientId;
  if (requested !== undefined && requested !== own) {
    sendError(ctx, 'forbidden', { msg: 'merchants see only their own resources' });
    return null;
  }
  return own;
};

export const ledgerQueryRoutes =
  (deps: QueryDeps): RouteRegistrar =>
  (kit: RouteKit) => {
    const accountReaders = requireScope('accounts:read');
    const accounts = validateQuery(accountsSchema);
    const entries = validateQuery(entriesSchema);
    const transfers = validateQuery(transfersSchema);
    const params = validateParams(accountParams);

    kit.router.get('/accounts', accountReaders, accounts, async (ctx) => {
      const query = accounts.read(ctx);
      const owner = ownerScope(ctx, query.owner_client_id);
      if (owner === null) return;
      const generation = await prepareQuery(deps, ctx, query);
      if (generation === null) return;
      const where = { ownerClientId: owner, currency: query.currency, status: query.status };
      sendOk(
        ctx,
        await findPage(deps, generation, ACCOUNTS, query, {
          where,
          range: null,
          orderBy: { field: 'openedAt', direction: 'desc' },
        }),
      );
    });

    kit.router.get('/accounts/:accountId/entries', accountReaders, params, entries, async (ctx) => {
      const query = entries.read(ctx);
      const { accountId } = params.read(ctx);
      const generation = await prepareQuery(deps, ctx, query);
      if (generation === null) return;
      const account = await findDocument(deps, generation, ACCOUNTS, accountId);
      if (
        account === null ||
        (!seesAll(ctx) && account['ownerClientId'] !== clientOf(ctx).clientId)
      ) {
        sendError(ctx, 'account_not_found', { data: { accountId } });
        return;
      }
      const page = await findPage(deps, generation, ENTRIES, query, {
        where: { accountId },
        range: null,
        orderBy: { field: 'positionKey', direction: 'desc' },
      });
      sendOk(ctx, { ...page, account: viewOf(account) });
    });

    kit.router.get('/transfers', requireScope('transfers:read'), transfers, async (ctx) => {
      const query = transfers.read(ctx);
      const generation = await prepareQuery(deps, ctx, query);
      if (generation === null) return;
      const where = {
        debitOwnerClientId: seesAll(ctx) ? undefined : clientOf(ctx).clientId,
        status: query.status,
        debitAccountId: query.debit_account_id,
        creditAccountId: query.credit_account_id,
      };
      const range = rangeOf('requestedAt', query.requested_from, query.requested_to);
      sendOk(
        ctx,
        await findPage(deps, generation, TRANSFERS, query, {
          where,
          range,
          orderBy: { field: 'requestedAt', direction: 'desc' },
        }),
      );
    });
  };
