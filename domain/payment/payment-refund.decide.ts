import { accept, reject } from '../decision';
import { isPositiveAmountMinor } from '../money';
import { assert } from '../assert';
import {
  findRefund,
  refundableMinorOf,
  type PaymentCommand,
  type PaymentDecision,
  type PaymentState,
} from './payment.model';

type CommandData<Type extends PaymentCommand['type']> = Extract<
  PaymentCommand,
  { type: Type }
>['data'];

/** Refunds are keyed by a caller-chosen refundId, so a retried request is a no-op. */
export const decideRefundRequest = (
  data: CommandData<'RequestRefund'>,
  state: PaymentState,
): PaymentDecision => {
  const { refundId, amountMinor, reason, now } = data;
  assert(isPositiveAmountMinor(amountMinor), 'RequestRefund: amountMinor must be positive');
  if (state.status === 'none') return reject('payment_not_found');
  if (state.status !== 'succeeded') return reject('payment_not_succeeded');
  const existing = findRefund(state, refundId);
  if (existing !== null) {
    if (existing.amountMinor === amountMinor) return accept();
    return reject('refund_id_conflict', { field: 'amountMinor' });
  }
  // In-flight refunds count as spent, so concurrent requests can never refund more than was paid.
  const refundableMinor = refundableMinorOf(state);
  if (amountMinor > refundableMinor) return reject('refund_exceeds_paid', { refundableMinor });
  const requested = { refundId, amountMinor, reason, requestedAt: now };
  return accept({ type: 'RefundRequested', data: requested });
};

export const decideRefundResult = (
  data: CommandData<'RecordRefundResult'>,
  state: PaymentState,
): PaymentDecision => {
  if (state.status === 'none') return reject('payment_not_found');
  const refund = findRefund(state, data.refundId);
  if (refund === null) return reject('refund_not_found');
  if (refund.status === data.outcome) return accept(); // Duplicate delivery.
  if (refund.status !== 'requested') return reject('refund_already_resolved');
  const { refundId, now } = data;
  const { amountMinor } = refund;
  return data.outcome === 'succeeded'
    ? accept({
        type: 'RefundSucceeded',
        data: { refundId, amountMinor, channelRefundId: data.channelRefundId, succeededAt: now },
      })
    : accept({
        type: 'RefundFailed',
        data: { refundId, amountMinor, failureReason: data.failureReason, failedAt: now },
      });
};
