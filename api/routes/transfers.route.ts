import type { JSONSchemaType } from 'ajv';
import { transferAggregate, type TransferMode } from '../../domain/transfer/transfer.decider';
import type { TransferProcessOutcome } from '../../domain/transfer/transfer.process';
import { transferView } from '../../domain/transfer/transfer.view';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireRole } from '../middleware/authenticate';
import { validateBody, validateParams } from '../middleware/validate';
import {
  amountMinorSchema,
  currencySchema,
  descriptionSchema,
  idSchema,
} from '../schemas/common.schema';
import { visibleAccount } from './accounts.route';
import { positionJson, type LedgerServices } from './ledger-services';
import { sendRejection } from './rejection';

/** A pending transfer may be held at most 30 days. */
const TRANSFER_TIMEOUT_MS_MAX = 30 * 24 * 3600 * 1000;

type CreateTransferBody = {
  transferId: string;
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: number;
  currency: string;
  mode?: TransferMode;
  timeoutMs?: number;
  reference?: string;
};
const createTransferSchema: JSONSchemaType<CreateTransferBody> = {
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

/** A recorded refusal (e.g. insufficient funds) answers with its own status, the transfer in data. */
const answer = (ctx: Ctx, outcome: TransferProcessOutcome, createdStatus: 200 | 201): void => {
  if (!outcome.ok) return sendRejection(ctx, outcome.rejection, outcome.detail);
  const data = {
    transfer: transferView(outcome.transfer),
    position: positionJson(outcome.position),
  };
  const refusal = outcome.transfer.rejection;
  if (outcome.transfer.status === 'rejected' && refusal !== null) {
    return sendRejection(ctx, refusal.reason, { side: refusal.side }, data);
  }
  sendOk(ctx, data, createdStatus);
};

export const transferRoutes =
  (services: LedgerServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const create = validateBody(createTransferSchema);
    const post = validateBody(postSchema, { optional: true });
    const voidBody = validateBody(voidSchema, { optional: true });
    const params = validateParams(transferParamsSchema);
    const writers = requireRole('admin', 'merchant');

    /** Merchants move money only out of accounts they opened; admins out of any. */
    const mayDebit = async (ctx: Ctx, accountId: string): Promise<boolean> =>
      clientOf(ctx).role === 'admin' || (await visibleAccount(services, ctx, accountId)) !== null;

    /** The transfer if the caller may see it (admin, auditor, or owner of its debit account). */
    const visibleTransfer = async (ctx: Ctx, transferId: string) => {
      const found = await services.runtime.read(transferAggregate, transferId);
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
      kit.idempotency(),
      async (ctx) => {
        const {
          mode = 'single_phase',
          timeoutMs = null,
          reference = '',
          ...terms
        } = create.read(ctx);
        if (!(await mayDebit(ctx, terms.debitAccountId))) return;
        const context = commandContext(ctx, services.nowMs());
        const outcome = await services.transfers.request(
          { ...terms, mode, timeoutMs, reference },
          context,
        );
        if (outcome.ok) ctx.set('Location', `/v1/transfers/${terms.transferId}`);
        answer(ctx, outcome, 201);
      },
    );

    kit.router.post(
      '/transfers/:transferId/post',
      writers,
      params,
      kit.jsonBody({ required: false }),
      post,
      kit.idempotency(),
      async (ctx) => {
        const { transferId } = params.read(ctx);
        if ((await visibleTransfer(ctx, transferId)) === null) return;
        const amountMinor = post.read(ctx)?.amountMinor ?? null;
        answer(
          ctx,
          await services.transfers.post(
            transferId,
            amountMinor,
            commandContext(ctx, services.nowMs()),
          ),
          200,
        );
      },
    );

    kit.router.post(
      '/transfers/:transferId/void',
      writers,
      params,
      kit.jsonBody({ required: false }),
      voidBody,
      kit.idempotency(),
      async (ctx) => {
        const { transferId } = params.read(ctx);
        if ((await visibleTransfer(ctx, transferId)) === null) return;
        answer(
          ctx,
          await services.transfers.void(
            transferId,
            'voided',
            commandContext(ctx, services.nowMs()),
          ),
          200,
        );
      },
    );

    kit.router.get('/transfers/:transferId', params, async (ctx) => {
      const found = await visibleTransfer(ctx, params.read(ctx).transferId);
      if (found !== null)
        sendOk(ctx, {
          transfer: transferView(found.transfer),
          position: positionJson(found.position),
        });
    });
  };
