import type { ActorRuntime } from '../actors/actor-runtime';
import { paymentAggregate } from '../payment/payment.decider';
import type { PaymentState } from '../payment/payment.model';
import type { Currency } from '../money';
import type { Discrepancy, StatementRow } from './reconciliation';

/**
 * What the daily reconciliation may put right by itself, decided here and nowhere else: a payment
 * the channel's statement shows paid that the ledger never saw paid (its notification was lost).
 * Everything else (amounts that differ, money the ledger has and the channel not, payments the
 * ledger never knew) is left for a person.
 */
export type PaymentRepair = {
  paymentId: string;
  channel: string;
  channelTransactionId: string;
  amountMinor: number;
  currency: Currency;
  /** The channel's own time of the payment (the statement row's): the ledger's paidAt. */
  paidAt: string;
};

export const repairOf = (
  channel: string,
  discrepancy: Discrepancy,
  statement: ReadonlyMap<string, StatementRow>,
): PaymentRepair | null => {
  if (discrepancy.kind !== 'status_mismatch' || discrepancy.ledgerStatus === 'succeeded')
    return null;
  const row = statement.get(discrepancy.paymentId);
  if (row === undefined || row.channelTransactionId !== discrepancy.channelTransactionId)
    return null;
  if (row.status !== 'succeeded' && row.status !== 'refunded') return null;
  return {
    paymentId: row.paymentId,
    channel,
    channelTransactionId: row.channelTransactionId,
    amountMinor: row.amountMinor,
    currency: row.currency,
    paidAt: row.occurredAt,
  };
};

/** Whether the payment now stands paid by the statement's transaction: the repair took. */
export const isRepaired = (state: PaymentState, repair: PaymentRepair): boolean =>
  state.status === 'succeeded' && state.paid.channelTransactionId === repair.channelTransactionId;

/** The outcome a repair left, for the report: 'succeeded', or the flag or rejection it met. */
export const repairOutcomeOf = (state: PaymentState, repair: PaymentRepair): string => {
  if (isRepaired(state, repair)) return 'succeeded';
  if (state.status === 'none') return 'payment_not_found';
  const flag = state.flags.find(
    (found) => found.channelTransactionId === repair.channelTransactionId,
  );
  return flag === undefined ? `payment ${state.status}` : `flagged ${flag.reason}`;
};

/**
 * Applies a repair through the command a verified callback becomes (RecordChannelResult), dated
 * by the channel's paid time (so the payment falls in the statement's day), its event ids keyed
 * by the statement row, its actor `system:reconciliation` so the log shows the
 * payment was repaired by reconciliation. A second run, a restart or another instance decides
 * the same command again: the decider sees the payment paid by that transaction and appends
 * nothing. The one place to point at another recovery command.
 */
export const applyPaymentRepair = async (
  runtime: ActorRuntime,
  repair: PaymentRepair,
  context: { reportId: string; now: string },
): Promise<{ state: PaymentState; position: bigint | null }> => {
  const { paymentId, channelTransactionId, amountMinor, currency, paidAt } = repair;
  const outcome = await runtime.execute(
    paymentAggregate,
    paymentId,
    {
      type: 'RecordChannelResult',
      data: { outcome: 'succeeded', channelTransactionId, amountMinor, currency, now: paidAt },
    },
    {
      correlationId: context.reportId,
      causationId: null,
      actor: { clientId: 'system:reconciliation', role: 'system', ip: null },
      idempotencyKey: null,
      now: context.now,
      eventIdSeed: `reconciliation:${repair.channel}:${channelTransactionId}`,
    },
  );
  return { state: outcome.state, position: outcome.position };
};
