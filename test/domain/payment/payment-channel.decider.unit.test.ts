import { AssertionError } from '../../../domain/assert';
import {
  paymentAggregate,
  type FlagReason,
  type PaymentEvent,
} from '../../../domain/payment/payment.decider';
import { deciderSpec } from '../../support/decider-spec';
import {
  beforeExpiry,
  closed,
  created,
  expired,
  failed,
  failedBy,
  paidBy,
  paidMinor,
  succeeded,
} from './payment.fixtures';

const given = deciderSpec(paymentAggregate);

const flagged = (
  reason: FlagReason,
  channelTransactionId: string,
  amountMinor = paidMinor,
  currency = 'EUR',
): PaymentEvent => ({
  type: 'PaymentFlagged',
  data: { reason, channelTransactionId, amountMinor, currency, flaggedAt: beforeExpiry },
});

describe('RecordChannelResult: succeeded', () => {
  it('pays a pending payment when amount and currency match', () => {
    given([created]).when(paidBy('tx-1')).then([succeeded]);
    given([created])
      .when(paidBy('tx-1'))
      .thenState((state) => expect(state.status).toBe('succeeded'));
  });

  it.each([paidMinor + 1, paidMinor - 1])('flags amount %i; payment stays pending', (amount) => {
    given([created])
      .when(paidBy('tx-1', amount))
      .then([flagged('amount_mismatch', 'tx-1', amount)]);
    given([created])
      .when(paidBy('tx-1', amount))
      .thenState((state) => expect(state.status).toBe('pending'));
  });

  it('flags another currency, checked before the amount', () => {
    given([created])
      .when(paidBy('tx-1', paidMinor + 1, 'USD'))
      .then([flagged('currency_mismatch', 'tx-1', paidMinor + 1, 'USD')]);
  });

  it('still pays after a mismatch when a matching report arrives', () => {
    const mismatched = flagged('amount_mismatch', 'tx-0', 999);
    given([created, mismatched]).when(paidBy('tx-1')).then([succeeded]);
  });

  it('ignores a duplicate delivery of the paying transaction', () => {
    given([created, succeeded]).when(paidBy('tx-1')).then([]);
  });

  it('flags a second transaction on a succeeded payment as paid twice', () => {
    given([created, succeeded])
      .when(paidBy('tx-2'))
      .then([flagged('paid_twice', 'tx-2')]);
  });

  it.each([
    ['closed', closed],
    ['expired', expired],
    ['failed', failed],
  ])('flags money arriving on a %s payment and keeps its status', (status, event) => {
    given([created, event])
      .when(paidBy('tx-9'))
      .then([flagged('paid_after_close', 'tx-9')]);
    given([created, event])
      .when(paidBy('tx-9'))
      .thenState((state) => expect(state.status).toBe(status));
  });

  it('records each flag once', () => {
    given([created, succeeded, flagged('paid_twice', 'tx-2')])
      .when(paidBy('tx-2'))
      .then([]);
    given([created, flagged('amount_mismatch', 'tx-1', 999)])
      .when(paidBy('tx-1', 999))
      .then([]);
  });

  it('flags the same transaction again for another reason', () => {
    given([created, flagged('amount_mismatch', 'tx-1', 999)])
      .when(paidBy('tx-1', 999, 'USD'))
      .then([flagged('currency_mismatch', 'tx-1', 999, 'USD')]);
  });

  it('keeps flags in state', () => {
    given([created, succeeded])
      .when(paidBy('tx-2'))
      .thenState((state) => {
        const flags = state.status === 'none' ? [] : state.flags;
        expect(flags).toEqual([flagged('paid_twice', 'tx-2').data]);
      });
  });

  it('rejects an unknown payment', () => {
    given([]).when(paidBy('tx-1')).thenRejects('payment_not_found');
  });

  it('treats a non-positive amount as a bug (the channel adapter validates it)', () => {
    const state = [created].reduce(paymentAggregate.evolve, paymentAggregate.initialState);
    expect(() => paymentAggregate.decide(paidBy('tx-1', 0), state)).toThrow(AssertionError);
  });
});

describe('RecordChannelResult: failed', () => {
  it('fails a pending payment', () => given([created]).when(failedBy('tx-1')).then([failed]));

  it('ignores a repeated failure, even under another transaction id', () => {
    given([created, failed]).when(failedBy('tx-1')).then([]);
    given([created, failed]).when(failedBy('tx-2')).then([]);
  });

  it('rejects a failure on a succeeded payment', () => {
    given([created, succeeded]).when(failedBy('tx-1')).thenRejects('payment_already_succeeded');
  });

  it.each([
    ['closed', closed],
    ['expired', expired],
  ])('ignores a late failure on a %s payment', (_status, event) => {
    given([created, event]).when(failedBy('tx-1')).then([]);
  });

  it('rejects an unknown payment', () => {
    given([]).when(failedBy('tx-1')).thenRejects('payment_not_found');
  });
});

describe('evolve refuses channel events decide could not have produced', () => {
  const replay = (events: readonly PaymentEvent[]) => () =>
    events.reduce(paymentAggregate.evolve, paymentAggregate.initialState);
  const twice = flagged('paid_twice', 'tx-2');
  const paidWith = (change: Partial<typeof succeeded.data>): PaymentEvent => ({
    ...succeeded,
    data: { ...succeeded.data, ...change },
  });

  it.each<[string, PaymentEvent[]]>([
    ['a success for another amount', [created, paidWith({ amountMinor: 1 })]],
    ['a success for another currency', [created, paidWith({ currency: 'USD' })]],
    ['a second success', [created, succeeded, succeeded]],
    ['a duplicate flag', [created, succeeded, twice, twice]],
    ['a paid_twice flag on a pending payment', [created, flagged('paid_twice', 'tx-1')]],
    ['a mismatch flag for the right amount', [created, flagged('amount_mismatch', 'tx-1')]],
    ['a paid_after_close flag on a pending one', [created, flagged('paid_after_close', 'tx-1')]],
    ['a flag before creation', [flagged('paid_after_close', 'tx-1')]],
    ['a failure after success', [created, succeeded, failed]],
  ])('%s', (_name, events) => expect(replay(events)).toThrow(AssertionError));
});
