import type { JSONSchemaType } from 'ajv';
import type { LedgerOutcome, LinkedCommand } from '../../domain/ledger/ledger.decider';
import type { StoredResponse } from '../../domain/ports/idempotency-store.port';
import { commandContext } from '../command-context';
import { errorCodes, type ErrorName } from '../error-codes';
import { okEnvelope, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { compileBodyCheck, validateBody } from '../middleware/validate';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { executeLedgerRequest } from './ledger-answers';
import type { LedgerServices } from './ledger-services';
import { maySee } from './account-visibility';
import { createTransferSchema, termsOf, type CreateTransferBody } from './transfers.route';

/** TigerBeetle's batch size: 8,190 transfers per request, decided and appended together. */
const BATCH_TRANSFER_COUNT_MAX = 8190;

type BatchItem = CreateTransferBody & { linked?: boolean };
const itemSchema: JSONSchemaType<BatchItem> = {
  ...createTransferSchema,
  properties: {
    ...createTransferSchema.properties,
    linked: { type: 'boolean', nullable: true },
  },
} as JSONSchemaType<BatchItem>;
const batchSchema: JSONSchemaType<{ transfers: Record<string, unknown>[] }> = {
  type: 'object',
  additionalProperties: false,
  required: ['transfers'],
  properties: {
    transfers: {
      type: 'array',
      minItems: 1,
      maxItems: BATCH_TRANSFER_COUNT_MAX,
      items: { type: 'object', required: [] },
    },
  },
};

/** One item's answer: what happened to it, and why when it was refused. */
type ItemResult =
  | { transferId: string; result: 'created' | 'existed'; status: string }
  | {
      transferId: string | null;
      result: 'refused';
      code: number;
      reason: string;
      detail: Readonly<Record<string, unknown>>;
    };

const refusal = (
  transferId: string | null,
  reason: string,
  detail: Readonly<Record<string, unknown>>,
): ItemResult => {
  const name: ErrorName = reason in errorCodes ? (reason as ErrorName) : 'transfer_rejected';
  return { transferId, result: 'refused', code: errorCodes[name].code, reason, detail };
};

const itemResult = (transferId: string, outcome: LedgerOutcome): ItemResult => {
  if (!outcome.ok) return refusal(transferId, outcome.rejection, outcome.detail);
  if (outcome.subject.kind !== 'transfer') return refusal(transferId, 'transfer_rejected', {});
  const { status, rejection } = outcome.subject.transfer;
  if (status === 'rejected' && rejection !== null)
    return refusal(transferId, rejection.reason, { side: rejection.side });
  return { transferId, result: outcome.changed ? 'created' : 'existed', status };
};

/** Items of the chain each index belongs to: [start, end] inclusive. */
const chainsOf = (linked: readonly boolean[]): [number, number][] => {
  const chains: [number, number][] = [];
  let start = 0;
  linked.forEach((isLinked, index) => {
    if (!isLinked || index === linked.length - 1) {
      chains.push([start, index]);
      start = index + 1;
    }
  });
  return chains;
};

const batchResponse = (results: readonly ItemResult[]): StoredResponse => {
  const refusedCount = results.filter((item) => item.result === 'refused').length;
  const data = { results, refusedCount, position: null };
  return { status: 200, body: okEnvelope(data), headers: {} };
};

/**
 * POST /v1/transfers/batch: up to 8,190 transfers decided in order and written in one atomic
 * append with the request's Idempotency-Key. Each item answers for itself. `linked: true` chains
 * an item with the next: the chain is applied whole or not at all, its breaking item answering
 * with its own refusal and the others with linked_transfer_failed (and the index that broke it).
 * An item that fails its schema, or that a merchant may not debit, is refused before the ledger
 * sees the batch, with its chain. A body that is not a list of objects is a 400: nothing runs.
 */
export const transferBatchRoutes =
  (services: LedgerServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const body = validateBody(batchSchema);
    const checkItem = compileBodyCheck(itemSchema);
    kit.router.post(
      '/transfers/batch',
      requireScope('transfers:write'),
      kit.jsonBody({ bytesMax: kit.limits.trafficBodyBytesMax }),
      body,
      kit.ledgerIdempotency(),
      async (ctx) => {
        const items = body.read(ctx).transfers;
        const checked = items.map((item) => checkItem(item));
        const early: (ItemResult | null)[] = checked.map((check, index) =>
          check.ok
            ? null
            : refusal(idOf(items[index]), 'invalid_request', {
                field: check.field,
                msg: check.msg.replace(/^body/, `body.transfers.${index}`),
              }),
        );
        const client = clientOf(ctx);
        if (client.role !== 'admin') {
          for (const [index, check] of checked.entries()) {
            if (!check.ok) continue;
            const { debitAccountId, transferId } = check.value;
            const { state } = await services.ledger.account(debitAccountId);
            if (state.status === 'unopened' || !maySee(client, state))
              early[index] = refusal(transferId, 'account_not_found', {
                accountId: debitAccountId,
              });
          }
        }
        const linked = checked.map((check, index) =>
          check.ok ? check.value.linked === true : items[index]?.['linked'] === true,
        );
        const commands: LinkedCommand[] = [];
        const sent: number[] = [];
        for (const [start, end] of chainsOf(linked)) {
          const failed = early.slice(start, end + 1).findIndex((result) => result !== null);
          for (let index = start; index <= end; index += 1) {
            const check = checked[index];
            if (failed !== -1) {
              early[index] ??= refusal(idOf(items[index]), 'linked_transfer_failed', {
                failedIndex: start + failed,
              });
            } else if (check?.ok === true) {
              const { linked: isLinked = false, ...terms } = check.value;
              commands.push({
                command: { type: 'CreateTransfer', data: termsOf(terms) },
                linked: isLinked,
              });
              sent.push(index);
            }
          }
        }
        const merge = (outcomes: readonly LedgerOutcome[]): ItemResult[] => {
          const results = [...early];
          outcomes.forEach((outcome, position) => {
            const index = sent[position] ?? -1;
            results[index] = itemResult(idOf(items[index]) ?? '', outcome);
          });
          return results.map((result) => result ?? refusal(null, 'transfer_rejected', {}));
        };
        if (commands.length === 0) {
          const response = batchResponse(merge([]));
          return sendOk(ctx, (response.body as { data: unknown }).data, 200);
        }
        const context = commandContext(ctx, services.nowMs());
        await executeLedgerRequest(ctx, services, { commands, context }, (outcomes) =>
          batchResponse(merge(outcomes)),
        );
      },
    );
  };

const idOf = (item: Record<string, unknown> | undefined): string | null => {
  const id = item?.['transferId'];
  return typeof id === 'string' ? id : null;
};
