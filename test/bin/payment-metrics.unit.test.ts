import type { PaymentRecord } from '../../domain/payment/payment.model';
import { paymentCountOf } from '../../bin/payment-metrics';

/** Which payment commands count as a created order or an outcome, and which count nothing. */
const NOW = '2026-01-01T00:00:00.000Z';
const base = {
  paymentId: 'p1',
  merchantId: 'm1',
  merchantOrderNo: 'o1',
  amountMinor: 1999,
  currency: 'EUR',
  channel: 'sandbox',
  subject: 's',
  creditAccountId: 'alice',
  expiresAt: NOW,
  createdAt: NOW,
  refunds: {},
  refundedMinor: 0,
  refundingMinor: 0,
  flags: [],
} as const;
const pending: PaymentRecord = { ...base, status: 'pending' };
const paid: PaymentRecord = {
  ...base,
  status: 'succeeded',
  paid: { channelTransactionId: 'tx-1', amountMinor: 1999, currency: 'EUR', paidAt: NOW },
};
const success = (channelTransactionId: string) =>
  ({
    type: 'RecordChannelResult',
    data: {
      outcome: 'succeeded',
      channelTransactionId,
      amountMinor: 1999,
      currency: 'EUR',
      now: NOW,
    },
  }) as const;

describe('paymentCountOf', () => {
  it('counts a created order with its amount', () => {
    const { expiresAt, ...terms } = base;
    const create = { type: 'CreatePayment', data: { ...terms, expiresAt, now: NOW } } as const;
    expect(paymentCountOf(create, pending, 1)).toEqual({
      outcome: 'created',
      channel: 'sandbox',
      currency: 'EUR',
      amountMinor: 1999,
    });
  });

  it('counts the success that paid the payment, not a duplicate nor a flagged second payment', () => {
    expect(paymentCountOf(success('tx-1'), paid, 1)).toMatchObject({
      outcome: 'succeeded',
      amountMinor: 1999,
    });
    expect(paymentCountOf(success('tx-1'), paid, 0)).toBeNull();
    expect(paymentCountOf(success('tx-2'), paid, 1)).toBeNull();
  });

  it('counts a failure, a close and an expiry; a refund counts nothing here', () => {
    const failed: PaymentRecord = {
      ...base,
      status: 'failed',
      failure: { channelTransactionId: 'tx-9', failureReason: 'declined', failedAt: NOW },
    };
    const failure = {
      type: 'RecordChannelResult',
      data: {
        outcome: 'failed',
        channelTransactionId: 'tx-9',
        failureReason: 'declined',
        now: NOW,
      },
    } as const;
    expect(paymentCountOf(failure, failed, 1)?.outcome).toBe('failed');
    expect(paymentCountOf(failure, paid, 1)).toBeNull();
    const closed: PaymentRecord = {
      ...base,
      status: 'closed',
      closure: { reason: 'r', closedAt: NOW },
    };
    expect(
      paymentCountOf({ type: 'ClosePayment', data: { reason: 'r', now: NOW } }, closed, 1)?.outcome,
    ).toBe('closed');
    const expired: PaymentRecord = { ...base, status: 'expired', expiredAt: NOW };
    expect(paymentCountOf({ type: 'ExpirePayment', data: { now: NOW } }, expired, 1)?.outcome).toBe(
      'expired',
    );
    const refund = {
      type: 'RequestRefund',
      data: { refundId: 'r1', amountMinor: 1, reason: 'x', now: NOW },
    } as const;
    expect(paymentCountOf(refund, paid, 1)).toBeNull();
  });
});
