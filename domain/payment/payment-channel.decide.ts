import { accept, reject } from '../decision';
import { isPositiveAmountMinor } from '../money';
import { assert } from '../assert';
import {
  flagReason,
  hasFlag,
  type ChannelResult,
  type PaymentDecision,
  type PaymentRecord,
  type PaymentState,
} from './payment.model';

type Succeeded = Extract<ChannelResult, { outcome: 'succeeded' }> & { now: string };
type Failed = Extract<ChannelResult, { outcome: 'failed' }> & { now: string };

/** Channels deliver at least once and out of order: repeats are no-ops, late money is flagged. */
export const decideChannelResult = (
  data: Succeeded | Failed,
  state: PaymentState,
): PaymentDecision => {
  if (state.status === 'none') return reject('payment_not_found');
  return data.outcome === 'succeeded'
    ? decideChannelSuccess(data, state)
    : decideChannelFailure(data, state);
};

const decideChannelSuccess = (data: Succeeded, payment: PaymentRecord): PaymentDecision => {
  const { channelTransactionId, amountMinor, currency, channelPaidAt, now } = data;
  assert(isPositiveAmountMinor(amountMinor), 'RecordChannelResult: amountMinor must be positive');
  const alreadyPaidBy = payment.status === 'succeeded' ? payment.paid.channelTransactionId : null;
  if (alreadyPaidBy === channelTransactionId) return accept(); // Duplicate delivery.
  const dated = channelPaidAt === undefined ? {} : { channelPaidAt };
  const reason = flagReason(payment, amountMinor, currency, channelPaidAt);
  if (reason === null) {
    const recovered = data.recovered === true ? { recovered: true as const } : {};
    const paid = {
      channelTransactionId,
      amountMinor,
      currency,
      paidAt: now,
      ...dated,
      ...recovered,
    };
    return accept({ type: 'PaymentSucceeded', data: paid });
  }
  if (hasFlag(payment, reason, channelTransactionId)) return accept();
  const flag = { reason, channelTransactionId, amountMinor, currency, flaggedAt: now, ...dated };
  return accept({ type: 'PaymentFlagged', data: flag });
};

const decideChannelFailure = (data: Failed, payment: PaymentRecord): PaymentDecision => {
  const { channelTransactionId, failureReason, now } = data;
  switch (payment.status) {
    case 'pending': {
      const failure = { channelTransactionId, failureReason, failedAt: now };
      return accept({ type: 'PaymentFailed', data: failure });
    }
    case 'succeeded':
      return reject('payment_already_succeeded');
    case 'failed':
    case 'closed':
    case 'expired':
      // Already final: a repeated or late failure report changes nothing.
      return accept();
  }
};
