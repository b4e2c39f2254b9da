import type { PaymentCommand, PaymentState } from '../domain/payment/payment.model';

/**
 * What a payment command that changed the payment counts for in the business metrics: a created
 * order, or the payment's outcome. A success report that only raised a flag (paid twice, amount
 * mismatch) is not a success; a duplicate (no event) counts nothing.
 */
type PaymentCount = {
  outcome: 'created' | 'succeeded' | 'failed' | 'closed' | 'expired';
  channel: string;
  currency: string;
  /** The order's amount (created) or the amount paid (succeeded); null for the other outcomes. */
  amountMinor: number | null;
};

export const paymentCountOf = (
  command: PaymentCommand,
  state: PaymentState,
  eventCount: number,
): PaymentCount | null => {
  if (eventCount === 0 || state.status === 'none') return null;
  const counted = (outcome: PaymentCount['outcome'], amountMinor: number | null) => ({
    outcome,
    channel: state.channel,
    currency: state.currency,
    amountMinor,
  });
  switch (command.type) {
    case 'CreatePayment':
      return state.status === 'pending' ? counted('created', state.amountMinor) : null;
    case 'RecordChannelResult': {
      const { outcome, channelTransactionId } = command.data;
      if (outcome !== state.status) return null;
      if (state.status === 'succeeded' && state.paid.channelTransactionId === channelTransactionId)
        return counted('succeeded', state.paid.amountMinor);
      if (state.status === 'failed' && state.failure.channelTransactionId === channelTransactionId)
        return counted('failed', null);
      return null;
    }
    case 'ClosePayment':
      return state.status === 'closed' ? counted('closed', null) : null;
    case 'ExpirePayment':
      return state.status === 'expired' ? counted('expired', null) : null;
    case 'RequestRefund':
    case 'RecordRefundResult':
      return null;
  }
};
