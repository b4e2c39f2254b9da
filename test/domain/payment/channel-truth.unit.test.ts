import { AssertionError } from '../../../domain/assert';
import {
  afterCloseOrder,
  afterQueryOrder,
  paidOrderOf,
} from '../../../domain/payment/channel-truth';
import { paymentAggregate, type PaymentCommand } from '../../../domain/payment/payment.decider';
import type { ChannelOrderStatus } from '../../../domain/ports/payment-channel.port';
import { deciderSpec } from '../../support/decider-spec';
import {
  afterExpiry,
  beforeExpiry,
  closed,
  created,
  expired,
  expiresAt,
  paidMinor,
} from './payment.fixtures';

const given = deciderSpec(paymentAggregate);

/** The channel's notification of tx-1, dated by the channel, reaching us at `now`. */
const notified = (
  channelPaidAt: string | undefined,
  now = afterExpiry,
  extra: { recovered?: boolean } = {},
): PaymentCommand => ({
  type: 'RecordChannelResult',
  data: {
    outcome: 'succeeded',
    channelTransactionId: 'tx-1',
    amountMinor: paidMinor,
    currency: 'EUR',
    ...(channelPaidAt === undefined ? {} : { channelPaidAt }),
    ...extra,
    now,
  },
});

const oneMsAfter = (iso: string): string => new Date(Date.parse(iso) + 1).toISOString();

describe('a success is judged by the channel paid time against expiresAt, not by its arrival', () => {
  it('credits an expired payment paid at expiresAt exactly whose notification came late', () => {
    given([created, expired])
      .when(notified(expiresAt))
      .then([
        {
          type: 'PaymentSucceeded',
          data: {
            channelTransactionId: 'tx-1',
            amountMinor: paidMinor,
            currency: 'EUR',
            paidAt: afterExpiry,
            channelPaidAt: expiresAt,
          },
        },
      ]);
    given([created, expired])
      .when(notified(beforeExpiry))
      .thenState((state) => expect(state.status).toBe('succeeded'));
  });

  it('flags paid_after_close an expired payment paid one millisecond after expiresAt', () => {
    given([created, expired])
      .when(notified(oneMsAfter(expiresAt)))
      .then([
        {
          type: 'PaymentFlagged',
          data: {
            reason: 'paid_after_close',
            channelTransactionId: 'tx-1',
            amountMinor: paidMinor,
            currency: 'EUR',
            flaggedAt: afterExpiry,
            channelPaidAt: oneMsAfter(expiresAt),
          },
        },
      ]);
  });

  it('flags an expired payment when the channel gave no paid time (nothing proves it in time)', () => {
    given([created, expired])
      .when(notified(undefined))
      .thenState((state) => {
        expect(state.status).toBe('expired');
        expect(state.status !== 'none' && state.flags.map((flag) => flag.reason)).toEqual([
          'paid_after_close',
        ]);
      });
  });

  it('flags a still-pending payment the channel says was paid after expiresAt', () => {
    given([created])
      .when(notified(oneMsAfter(expiresAt)))
      .thenState((state) => {
        expect(state.status).toBe('pending');
        expect(state.status !== 'none' && state.flags[0]?.reason).toBe('paid_after_close');
      });
  });

  it('credits a pending payment without a paid time, as before (arrival is not judged)', () => {
    given([created])
      .when(notified(undefined, afterExpiry))
      .thenState((state) => expect(state.status).toBe('succeeded'));
  });

  it('keeps a closed payment closed: its channel order was closed before the ledger closed it', () => {
    given([created, closed])
      .when(notified(beforeExpiry))
      .thenState((state) => {
        expect(state.status).toBe('closed');
        expect(state.status !== 'none' && state.flags[0]?.reason).toBe('paid_after_close');
      });
  });

  it('marks a payment found by query as recovered', () => {
    given([created])
      .when(notified(beforeExpiry, beforeExpiry, { recovered: true }))
      .thenState((state) => {
        expect(state.status === 'succeeded' && state.paid.recovered).toBe(true);
      });
  });

  it('refuses on replay a success on an expired payment dated after expiresAt (evolve pairs)', () => {
    const forged = {
      type: 'PaymentSucceeded' as const,
      data: {
        channelTransactionId: 'tx-1',
        amountMinor: paidMinor,
        currency: 'EUR',
        paidAt: afterExpiry,
        channelPaidAt: oneMsAfter(expiresAt),
      },
    };
    expect(() =>
      [created, expired, forged].reduce(paymentAggregate.evolve, paymentAggregate.initialState),
    ).toThrow(AssertionError);
  });
});

const order = (overrides: Partial<ChannelOrderStatus>): ChannelOrderStatus => ({
  status: 'pending',
  channelTransactionId: null,
  amountMinor: null,
  currency: null,
  paidAt: null,
  ...overrides,
});
const paidOrder = order({
  status: 'succeeded',
  channelTransactionId: 'tx-9',
  amountMinor: paidMinor,
  currency: 'EUR',
  paidAt: beforeExpiry,
});

describe('closing a payment: the channel first (close/paid race)', () => {
  it('closes the ledger once the channel closed the order', () => {
    expect(afterCloseOrder({ ok: true, value: { closed: true } })).toEqual({
      kind: 'close_ledger',
    });
  });

  it('closes nothing while the channel does not answer', () => {
    expect(afterCloseOrder({ ok: false, kind: 'transient', reason: 'timeout' })).toEqual({
      kind: 'unavailable',
      reason: 'timeout',
    });
    expect(afterQueryOrder({ ok: false, kind: 'transient', reason: 'HTTP 503' })).toEqual({
      kind: 'unavailable',
      reason: 'HTTP 503',
    });
  });

  it('asks the channel why it refused to close', () => {
    expect(afterCloseOrder({ ok: false, kind: 'permanent', reason: 'ORDERPAID' })).toEqual({
      kind: 'query_channel',
    });
  });

  it('credits instead when the refusal was because the payer had paid', () => {
    expect(afterQueryOrder({ ok: true, value: paidOrder })).toEqual({
      kind: 'credit',
      order: paidOrder,
    });
    expect(paidOrderOf(paidOrder)).toEqual({
      outcome: 'succeeded',
      channelTransactionId: 'tx-9',
      amountMinor: paidMinor,
      currency: 'EUR',
      channelPaidAt: beforeExpiry,
      recovered: true,
    });
  });

  it('closes the ledger when the order is closed, failed or unknown at the channel', () => {
    expect(afterQueryOrder({ ok: true, value: order({ status: 'closed' }) }).kind).toBe(
      'close_ledger',
    );
    expect(afterQueryOrder({ ok: true, value: order({ status: 'failed' }) }).kind).toBe(
      'close_ledger',
    );
    expect(afterQueryOrder({ ok: false, kind: 'permanent', reason: 'no such order' }).kind).toBe(
      'close_ledger',
    );
  });

  it('refuses to close the ledger while the order stays payable at the channel', () => {
    expect(afterQueryOrder({ ok: true, value: order({ status: 'pending' }) }).kind).toBe('refused');
  });

  it('reads a paid order only with its transaction, amount and currency', () => {
    expect(paidOrderOf(order({ status: 'succeeded', channelTransactionId: 'tx-9' }))).toBeNull();
    expect(paidOrderOf({ ...paidOrder, paidAt: null })).not.toHaveProperty('channelPaidAt');
  });
});
