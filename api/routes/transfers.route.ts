import type { JSONSchemaType } from 'ajv';
import type { LedgerCommand } from '../../domain/ledger/ledger.decider';
import type { TransferMode, TransferTerms } from '../../domain/transfer/transfer.decider';
import { transferView } from '../../domain/transfer/transfer.view';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams } from '../middleware/validate';
import {
  amountMinorSchema,
  currencySchema,
  descriptionSchema,
  idSchema,
} from '../schemas/common.schema';
import { visibleAccount } from './accounts.route';
import { executeLedgerRequest, forOnly, outcomeResponse, single } from './ledger-answers';
import { positionJson, type LedgerServices } from './ledger-services';

/** A pending transfer may be held at most 30 days. */
const TRANSFER_TIMEOUT_MS_MAX = 30 * 24 * 3600 * 1000;

export type CreateTransferBody = {
  transferId: string;
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: number;
  currency: string;
  mode?: TransferMode;
  timeoutMs?: number;
  reference?: string;
};
export const createTransferSchema: JSONSchemaType<CreateTransferBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['transferId', 'debitAccountId', 'creditAccountId', 'amountMinor', 'currency'],
  properties: {
    transferId: idSchema,
    debitAccountId: idSchema,
    creditAccountId: idSchema,
    amountMinor: amountMinorSchema,
    currency: currencySchema,
    mode: { type: 'string', enum: ['single_phase', 'two_phase'], nullable: true },
    timeoutMs: { type: 'integer', minimum: 1, maximum: TRANSFER_TIMEOUT_MS_MAX, nullable: true },
    reference: { ...descriptionSchema, nullable: true },
  },
};
const postSchema: JSONSchemaType<{ amountMinor?: number }> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: { amountMinor: { ...amountMinorSchema, nullable: true } },
};
const voidSchema: JSONSchemaType<Record<string, never>> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {},
};
const transferParamsSchema: JSONSchemaType<{ transferId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['transferId'],
  properties: { transferId: idSchema },
};

type Ctx = Parameters<Parameters<RouteKit['router']['post']>[1]>[0];

/** Merchants move money only out of accounts they opened; admins out of any. */
const mayDebit = async (services: LedgerServices, ctx: Ctx, accountId: string): Promise<boolean> =>
  clientOf(ctx).role === 'admin' || (await visibleAccount(services, ctx, accountId)) !== null;

/** The body's optional terms with their defaults: the transfer as the ledger takes it. */
export const termsOf = (body: CreateTransferBody): TransferTerms => {
  const { mode = 'single_phase', timeoutMs = null, reference = '', ...terms } = body;
  return { ...terms, mode, timeoutMs, reference };
};

export const transferRoutes =
  (services: LedgerServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const create = validateBody(createTransferSchema);
    const post = validateBody(postSchema, { optional: true });
    const voidBody = validateBody(voidSchema, { optional: true });
    const params = validateParams(transferParamsSchema);
    const writers = requireScope('transfers:write');
    const created = () => 201 as const;
    const resolved = () => 200 as const;

    /** The transfer if the caller may see it (admin, auditor, or owner of its debit account). */
    const visibleTransfer = async (ctx: Ctx, transferId: string) => {
      const found = await services.ledger.transfer(transferId);
      const client = clientOf(ctx);
      const privileged = client.role === 'admin' || client.role === 'auditor';
      if (
        found.state.status === 'none' ||
        (!privileged &&
          (await visibleAccount(services, ctx, found.state.terms.debitAccountId)) === null)
      ) {
        sendError(ctx, 'transfer_not_found', { data: { transferId } });
        return null;
      }
      return { transfer: found.state, position: found.position };
    };

    kit.router.post(
      '/transfers',
      writers,
      kit.jsonBody(),
      create,
      // A flood of transfers into one account (a hot key) is limited on the credited account.
      kit.hotKey('account', (ctx) => create.read(ctx).creditAccountId),
      kit.ledgerIdempotency(),
      async (ctx) => {
        const terms = termsOf(create.read(ctx));
        if (!(await mayDebit(services, ctx, terms.debitAccountId))) return;
        const context = commandContext(ctx, services.nowMs());
        const commands = single({ type: 'CreateTransfer', data: terms });
        await executeLedgerRequest(
          ctx,
          services,
          { commands, context },
          forOnly((outcome) => outcomeResponse(outcome, created)),
        );
      },
    );

    const resolveRoute = (
      path: string,
      validator: typeof post | typeof voidBody,
      command: (ctx: Ctx, transferId: string) => LedgerCommand,
    ) =>
      kit.router.post(
        path,
        writers,
        params,
        kit.jsonBody({ required: false }),
        validator,
        kit.ledgerIdempotency(),
        async (ctx) => {
          const { transferId } = params.read(ctx);
          if ((await visibleTransfer(ctx, transferId)) === null) return;
          const context = commandContext(ctx, services.nowMs());
          const commands = single(command(ctx, transferId));
          await executeLedgerRequest(
            ctx,
            services,
            { commands, context },
            forOnly((outcome) => outcomeResponse(outcome, resolved)),
          );
        },
      );
    resolveRoute('/transfers/:transferId/post', post, (ctx, transferId) => ({
      type: 'PostTransfer',
      data: { transferId, amountMinor: post.read(ctx)?.amountMinor ?? null },
    }));
    resolveRoute('/transfers/:transferId/void', voidBody, (_ctx, transferId) => ({
      type: 'VoidTransfer',
      data: { transferId, reason: 'voided' },
    }));

    kit.router.get(
      '/transfers/:transferId',
      requireScope('transfers:read'),
      params,
      async (ctx) => {
        const found = await visibleTransfer(ctx, params.read(ctx).transferId);
        if (found !== null)
          sendOk(ctx, {
            transfer: transferView(found.transfer),
            position: positionJson(found.position),
          });
      },
    );
  };
