import type { ChannelCallResult, ChannelOrderStatus } from '../ports/payment-channel.port';
import type { ChannelSuccess } from './payment.model';

/**
 * The channel is the source of truth on whether an order was paid. These pure rules read its
 * answers; the close route and the expiry saga drive the calls and run the commands.
 */

/** A success the channel reports on query: applied as if its notification had come, recovered. */
export const paidOrderOf = (order: ChannelOrderStatus): ChannelSuccess | null => {
  const { status, channelTransactionId, amountMinor, currency, paidAt } = order;
  if (status !== 'succeeded' || channelTransactionId === null) return null;
  if (amountMinor === null || currency === null) return null;
  const dated = paidAt === null ? {} : { channelPaidAt: paidAt };
  return {
    outcome: 'succeeded',
    channelTransactionId,
    amountMinor,
    currency,
    ...dated,
    recovered: true,
  };
};

/**
 * What closing a payment does next. The ledger closes only once the order can no longer be paid
 * at the channel: closed there, or never created there. A channel that refuses to close is asked
 * why (paid: the payment is credited instead); one that does not answer closes nothing.
 */
export type CloseVerdict =
  | { kind: 'close_ledger' }
  | { kind: 'query_channel' }
  | { kind: 'credit'; order: ChannelOrderStatus }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'refused'; reason: string };

/** What closing comes to once the channel has answered (no further question to ask it). */
export type CloseOutcome = Exclude<CloseVerdict, { kind: 'query_channel' }>;

/** After `closeOrder`: closed → close the ledger; refused → ask why; no answer → nothing. */
export const afterCloseOrder = (answer: ChannelCallResult<{ closed: true }>): CloseVerdict => {
  if (answer.ok) return { kind: 'close_ledger' };
  return answer.kind === 'transient'
    ? { kind: 'unavailable', reason: answer.reason }
    : { kind: 'query_channel' };
};

/**
 * After the channel refused to close, its `queryOrder` answer: paid → credit; closed or failed →
 * nothing payable is left, close the ledger; still pending → the order stays payable and the
 * ledger must not close; no such order (a permanent refusal) → nothing to pay, close the ledger.
 */
export const afterQueryOrder = (answer: ChannelCallResult<ChannelOrderStatus>): CloseOutcome => {
  if (!answer.ok)
    return answer.kind === 'transient'
      ? { kind: 'unavailable', reason: answer.reason }
      : { kind: 'close_ledger' };
  if (paidOrderOf(answer.value) !== null) return { kind: 'credit', order: answer.value };
  return answer.value.status === 'pending'
    ? { kind: 'refused', reason: 'the channel refused to close a payable order' }
    : { kind: 'close_ledger' };
};
