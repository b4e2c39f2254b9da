import type {
  PaymentCommand,
  PaymentEvent,
  PaymentTerms,
} from '../../../domain/payment/payment.decider';

/** Shared builders for the payment specs: one order of 1000 EUR minor units, paid via sandbox. */
type EventOf<Type extends PaymentEvent['type']> = Extract<PaymentEvent, { type: Type }>;

export const createdAt = '2030-01-01T00:00:00.000Z';
export const beforeExpiry = '2030-01-01T00:10:00.000Z';
export const expiresAt = '2030-01-01T00:30:00.000Z';
export const afterExpiry = '2030-01-01T00:40:00.000Z';
export const paidMinor = 1000;

export const terms: PaymentTerms = {
  paymentId: 'pay-1',
  merchantId: 'merchant-1',
  merchantOrderNo: 'order-1',
  amountMinor: paidMinor,
  currency: 'EUR',
  channel: 'sandbox',
  subject: 'Pro plan',
  creditAccountId: 'account-merchant-1',
  expiresAt,
};

export const create = (
  overrides: Partial<PaymentTerms & { now: string }> = {},
): PaymentCommand => ({
  type: 'CreatePayment',
  data: { ...terms, now: createdAt, ...overrides },
});

export const paidBy = (
  channelTransactionId: string,
  amountMinor = paidMinor,
  currency = 'EUR',
  now = beforeExpiry,
): PaymentCommand => ({
  type: 'RecordChannelResult',
  data: { outcome: 'succeeded', channelTransactionId, amountMinor, currency, now },
});

export const failedBy = (channelTransactionId: string, now = beforeExpiry): PaymentCommand => ({
  type: 'RecordChannelResult',
  data: { outcome: 'failed', channelTransactionId, failureReason: 'card_declined', now },
});

export const close: PaymentCommand = {
  type: 'ClosePayment',
  data: { reason: 'order_cancelled', now: beforeExpiry },
};

export const expire = (now = expiresAt): PaymentCommand => ({
  type: 'ExpirePayment',
  data: { now },
});

export const requestRefund = (refundId: string, amountMinor: number): PaymentCommand => ({
  type: 'RequestRefund',
  data: { refundId, amountMinor, reason: 'customer_request', now: afterExpiry },
});

export const refundSucceeded = (refundId: string): PaymentCommand => ({
  type: 'RecordRefundResult',
  data: { refundId, outcome: 'succeeded', channelRefundId: `ch-${refundId}`, now: afterExpiry },
});

export const refundFailed = (refundId: string): PaymentCommand => ({
  type: 'RecordRefundResult',
  data: { refundId, outcome: 'failed', failureReason: 'channel_refused', now: afterExpiry },
});

export const created: EventOf<'PaymentCreated'> = {
  type: 'PaymentCreated',
  data: { ...terms, createdAt },
};

export const succeeded: EventOf<'PaymentSucceeded'> = {
  type: 'PaymentSucceeded',
  data: {
    channelTransactionId: 'tx-1',
    amountMinor: paidMinor,
    currency: 'EUR',
    paidAt: beforeExpiry,
  },
};

export const failed: EventOf<'PaymentFailed'> = {
  type: 'PaymentFailed',
  data: { channelTransactionId: 'tx-1', failureReason: 'card_declined', failedAt: beforeExpiry },
};

export const closed: EventOf<'PaymentClosed'> = {
  type: 'PaymentClosed',
  data: { reason: 'order_cancelled', closedAt: beforeExpiry },
};

export const expired: EventOf<'PaymentExpired'> = {
  type: 'PaymentExpired',
  data: { expiredAt: expiresAt },
};

export const refundRequested = (
  refundId: string,
  amountMinor: number,
): EventOf<'RefundRequested'> => ({
  type: 'RefundRequested',
  data: { refundId, amountMinor, reason: 'customer_request', requestedAt: afterExpiry },
});

export const refundSucceededEvent = (
  refundId: string,
  amountMinor: number,
): EventOf<'RefundSucceeded'> => ({
  type: 'RefundSucceeded',
  data: { refundId, amountMinor, channelRefundId: `ch-${refundId}`, succeededAt: afterExpiry },
});

export const refundFailedEvent = (
  refundId: string,
  amountMinor: number,
): EventOf<'RefundFailed'> => ({
  type: 'RefundFailed',
  data: { refundId, amountMinor, failureReason: 'channel_refused', failedAt: afterExpiry },
});
