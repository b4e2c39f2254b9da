import type { ActorRuntime, CommandContext } from '../actors/actor-runtime';
import { paymentAggregate } from '../payment/payment.decider';
import { findRefund, type PaymentCommand, type PaymentState } from '../payment/payment.model';
import type { Currency } from '../money';
import type { Discrepancy, RefundStatementRow, StatementRow } from './reconciliation';

/**
 * What the daily reconciliation may put right by itself, decided here and nowhere else:
 * - a payment the channel's statement shows paid that the ledger never saw paid (its success
 *   notification was lost): the channel's success is recorded;
 * - a refund the ledger still holds as requested that the statement shows succeeded or failed
 *   (its notification was lost): the channel's outcome is recorded.
 * Everything else (amounts that differ, money the ledger has and the channel not, payments or
 * refunds the ledger never knew) is left for a person.
 */
type Repair =
  | {
      kind: 'payment';
      paymentId: string;
      channel: string;
      channelTransactionId: string;
      amountMinor: number;
      currency: Currency;
      /** The channel's own time of the payment (the statement row's): the ledger's paidAt. */
      paidAt: string;
    }
  | {
      kind: 'refund';
      paymentId: string;
      channel: string;
      refundId: string;
      outcome:
        | { status: 'succeeded'; channelRefundId: string }
        | { status: 'failed'; failureReason: string };
      /** The channel's own time of the refund's outcome. */
      settledAt: string;
    };

/** The statement rows a repair is built from, by payment (and refund). */
export type StatementIndex = {
  payments: ReadonlyMap<string, StatementRow>;
  refunds: readonly RefundStatementRow[];
};

const paymentRepairOf = (
  channel: string,
  discrepancy: Extract<Discrepancy, { kind: 'status_mismatch' }>,
  statement: StatementIndex,
): Repair | null => {
  if (discrepancy.ledgerStatus === 'succeeded') return null;
  const row = statement.payments.get(discrepancy.paymentId);
  if (row === undefined || row.channelTransactionId !== discrepancy.channelTransactionId)
    return null;
  if (row.status !== 'succeeded' && row.status !== 'refunded') return null;
  return {
    kind: 'payment',
    paymentId: row.paymentId,
    channel,
    channelTransactionId: row.channelTransactionId,
    amountMinor: row.amountMinor,
    currency: row.currency,
    paidAt: row.occurredAt,
  };
};

const refundRepairOf = (
  channel: string,
  discrepancy: Extract<Discrepancy, { kind: 'refund_mismatch' }>,
  statement: StatementIndex,
): Repair | null => {
  if (discrepancy.ledgerStatus !== 'requested') return null;
  const row = statement.refunds.find(
    (found) => found.paymentId === discrepancy.paymentId && found.refundId === discrepancy.refundId,
  );
  if (row === undefined) return null;
  if (row.status === 'succeeded' && row.channelRefundId === null) return null;
  return {
    kind: 'refund',
    paymentId: row.paymentId,
    channel,
    refundId: row.refundId,
    outcome:
      row.channelRefundId !== null && row.status === 'succeeded'
        ? { status: 'succeeded', channelRefundId: row.channelRefundId }
        : { status: 'failed', failureReason: 'failed per the channel statement' },
    settledAt: row.occurredAt,
  };
};

export const repairOf = (
  channel: string,
  discrepancy: Discrepancy,
  statement: StatementIndex,
): Repair | null => {
  switch (discrepancy.kind) {
    case 'status_mismatch':
      return paymentRepairOf(channel, discrepancy, statement);
    case 'refund_mismatch':
      return refundRepairOf(channel, discrepancy, statement);
    case 'channel_only':
    case 'ledger_only':
    case 'amount_mismatch':
      return null;
  }
};

/** Whether the payment now stands as the statement says: the repair took. */
export const isRepaired = (state: PaymentState, repair: Repair): boolean => {
  if (state.status === 'none') return false;
  if (repair.kind === 'payment')
    return (
      state.status === 'succeeded' &&
      state.paid.channelTransactionId === repair.channelTransactionId
    );
  return findRefund(state, repair.refundId)?.status === repair.outcome.status;
};

/** The outcome a repair left, for the report: 'succeeded', or the state or flag it met. */
export const repairOutcomeOf = (state: PaymentState, repair: Repair): string => {
  if (isRepaired(state, repair))
    return repair.kind === 'payment' ? 'succeeded' : `refund ${repair.outcome.status}`;
  if (state.status === 'none') return 'payment_not_found';
  if (repair.kind === 'refund')
    return `refund ${findRefund(state, repair.refundId)?.status ?? 'not found'}`;
  const flag = state.flags.find(
    (found) => found.channelTransactionId === repair.channelTransactionId,
  );
  return flag === undefined ? `payment ${state.status}` : `flagged ${flag.reason}`;
};

/** The command a verified callback reporting the same fact becomes, dated by the channel. */
const commandOf = (repair: Repair): PaymentCommand => {
  if (repair.kind === 'payment') {
    const { channelTransactionId, amountMinor, currency, paidAt } = repair;
    return {
      type: 'RecordChannelResult',
      // As recoverPaidPayment records a payment found paid by query: dated by the channel's paid
      // time, flagged recovered (no notification came).
      data: {
        outcome: 'succeeded',
        channelTransactionId,
        amountMinor,
        currency,
        channelPaidAt: paidAt,
        recovered: true,
        now: paidAt,
      },
    };
  }
  const { refundId, outcome, settledAt } = repair;
  return {
    type: 'RecordRefundResult',
    data:
      outcome.status === 'succeeded'
        ? {
            refundId,
            outcome: 'succeeded',
            channelRefundId: outcome.channelRefundId,
            now: settledAt,
          }
        : { refundId, outcome: 'failed', failureReason: outcome.failureReason, now: settledAt },
  };
};

/** Keys the repair's events by the statement row, so every instance appends the same ids. */
const eventIdSeedOf = (repair: Repair): string =>
  repair.kind === 'payment'
    ? `reconciliation:${repair.channel}:payment:${repair.channelTransactionId}`
    : `reconciliation:${repair.channel}:refund:${repair.paymentId}:${repair.refundId}`;

/**
 * Applies a repair through the normal payment command a verified callback becomes
 * (RecordChannelResult, RecordRefundResult), dated by the channel's time (so a payment falls in
 * its statement's day), its actor `system:reconciliation` so that the log shows it was repaired
 * by reconciliation. A second run, a restart or another instance decides the same command
 * again: the decider finds the fact recorded and appends nothing. The one place to point at
 * another recovery command.
 */
export const applyRepair = async (
  runtime: ActorRuntime,
  repair: Repair,
  context: { reportId: string; now: string },
): Promise<{ state: PaymentState; position: bigint | null }> => {
  const commandContext: CommandContext = {
    correlationId: context.reportId,
    causationId: null,
    actor: { clientId: 'system:reconciliation', role: 'system', ip: null },
    idempotencyKey: null,
    now: context.now,
    eventIdSeed: eventIdSeedOf(repair),
  };
  const outcome = await runtime.execute(
    paymentAggregate,
    repair.paymentId,
    commandOf(repair),
    commandContext,
  );
  return { state: outcome.state, position: outcome.position };
};
