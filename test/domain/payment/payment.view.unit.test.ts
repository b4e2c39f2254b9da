import {
  paymentAggregate,
  paymentView,
  type PaymentEvent,
} from '../../../domain/payment/payment.decider';
import {
  afterExpiry,
  beforeExpiry,
  closed,
  created,
  createdAt,
  expired,
  expiresAt,
  failed,
  refundFailedEvent,
  refundRequested,
  refundSucceededEvent,
  succeeded,
  terms,
} from './payment.fixtures';

const viewOf = (events: readonly PaymentEvent[]) =>
  paymentView(events.reduce(paymentAggregate.evolve, paymentAggregate.initialState));

const noOutcome = {
  channelTransactionId: null,
  paidAt: null,
  channelPaidAt: null,
  recovered: false,
  failureReason: null,
  failedAt: null,
  closeReason: null,
  closedAt: null,
  expiredAt: null,
};

const refundRow = (
  refundId: string,
  amountMinor: number,
  status: string,
  facts: Record<string, string>,
) => ({
  refundId,
  // The fixture's payment is a sandbox one recorded without a mode: test, and so its refunds.
  mode: 'test',
  amountMinor,
  status,
  reason: 'customer_request',
  requestedAt: afterExpiry,
  channelRefundId: null,
  failureReason: null,
  resolvedAt: null,
  ...facts,
});

describe('paymentView', () => {
  it('is null for a payment that does not exist', () => expect(viewOf([])).toBeNull());

  it('shows the recorded mode; one recorded before modes reads as its channel', () => {
    const createdWith = (data: Partial<typeof created.data>): PaymentEvent => ({
      type: 'PaymentCreated',
      data: { ...created.data, ...data },
    });
    expect(viewOf([createdWith({ channel: 'wechat' })])?.mode).toBe('live');
    expect(viewOf([createdWith({ channel: 'sandbox' })])?.mode).toBe('test');
    expect(viewOf([createdWith({ channel: 'sandbox', mode: 'live' })])?.mode).toBe('live');
    expect(viewOf([createdWith({ channel: 'stripe', mode: 'test' })])?.mode).toBe('test');
  });

  it('shows a pending payment with every outcome null', () => {
    expect(viewOf([created])).toEqual({
      ...terms,
      mode: 'test',
      notifyUrl: null,
      returnUrl: null,
      description: null,
      createdAt,
      status: 'pending',
      ...noOutcome,
      refundedMinor: 0,
      refundingMinor: 0,
      refundableMinor: 0,
      refunds: [],
      flags: [],
    });
  });

  it.each<[string, PaymentEvent, Record<string, string>]>([
    [
      'failed',
      failed,
      { channelTransactionId: 'tx-1', failureReason: 'card_declined', failedAt: beforeExpiry },
    ],
    ['closed', closed, { closeReason: 'order_cancelled', closedAt: beforeExpiry }],
    ['expired', expired, { expiredAt: expiresAt }],
  ])('shows why a payment is %s', (status, event, outcome) => {
    expect(viewOf([created, event])).toMatchObject({ status, ...noOutcome, ...outcome });
  });

  it('shows a paid payment with refunds oldest first, amounts and flags, as plain JSON', () => {
    const flag: PaymentEvent = {
      type: 'PaymentFlagged',
      data: {
        reason: 'paid_twice',
        channelTransactionId: 'tx-2',
        amountMinor: 1000,
        currency: 'EUR',
        flaggedAt: afterExpiry,
      },
    };
    const earlier = refundRequested('r-9', 100);
    const view = viewOf([
      created,
      succeeded,
      flag,
      refundRequested('r-3', 200),
      refundRequested('r-2', 300),
      { ...earlier, data: { ...earlier.data, requestedAt: beforeExpiry } },
      refundSucceededEvent('r-2', 300),
      refundFailedEvent('r-3', 200),
    ]);
    expect(view).toMatchObject({
      status: 'succeeded',
      channelTransactionId: 'tx-1',
      paidAt: beforeExpiry,
      refundedMinor: 300,
      refundingMinor: 100,
      refundableMinor: 600,
      flags: [flag.data],
    });
    const resolvedAt = afterExpiry;
    expect(view?.refunds).toEqual([
      refundRow('r-9', 100, 'requested', { requestedAt: beforeExpiry }),
      refundRow('r-2', 300, 'succeeded', { channelRefundId: 'ch-r-2', resolvedAt }),
      refundRow('r-3', 200, 'failed', { failureReason: 'channel_refused', resolvedAt }),
    ]);
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });
});
