import { AssertionError } from '../../../domain/assert';
import { paymentAggregate, type PaymentEvent } from '../../../domain/payment/payment.decider';
import { deciderSpec } from '../../support/decider-spec';
import {
  closed,
  created,
  expired,
  failed,
  paidMinor,
  refundFailed,
  refundFailedEvent,
  refundRequested,
  refundSucceeded,
  refundSucceededEvent,
  requestRefund,
  succeeded,
} from './payment.fixtures';

const given = deciderSpec(paymentAggregate);
const paid = [created, succeeded];
const stateOf = (events: readonly PaymentEvent[]) =>
  events.reduce(paymentAggregate.evolve, paymentAggregate.initialState);

describe('RequestRefund', () => {
  it('refunds exactly what was paid', () => {
    given(paid)
      .when(requestRefund('r-1', paidMinor))
      .then([refundRequested('r-1', paidMinor)]);
  });

  it('refuses one minor unit more, telling what is refundable', () => {
    expect(paymentAggregate.decide(requestRefund('r-1', paidMinor + 1), stateOf(paid))).toEqual({
      ok: false,
      rejection: 'refund_exceeds_paid',
      detail: { refundableMinor: paidMinor },
    });
  });

  it.each<[string, PaymentEvent[]]>([
    ['in flight', [refundRequested('r-1', 300)]],
    ['succeeded', [refundRequested('r-1', 300), refundSucceededEvent('r-1', 300)]],
  ])('counts a refund %s as spent: 700 left, 701 refused', (_name, refunds) => {
    const history = [...paid, ...refunds];
    given(history)
      .when(requestRefund('r-2', 700))
      .then([refundRequested('r-2', 700)]);
    given(history).when(requestRefund('r-2', 701)).thenRejects('refund_exceeds_paid');
  });

  it('releases the amount of a failed refund', () => {
    const history = [...paid, refundRequested('r-1', 300), refundFailedEvent('r-1', 300)];
    given(history)
      .when(requestRefund('r-2', paidMinor))
      .then([refundRequested('r-2', paidMinor)]);
  });

  it('answers a retried request with no events, whatever became of it', () => {
    given([...paid, refundRequested('r-1', 300)])
      .when(requestRefund('r-1', 300))
      .then([]);
    const failedRefund = [...paid, refundRequested('r-1', 300), refundFailedEvent('r-1', 300)];
    given(failedRefund).when(requestRefund('r-1', 300)).then([]);
  });

  it('rejects a reused refundId with another amount, naming the field', () => {
    const decision = paymentAggregate.decide(
      requestRefund('r-1', 301),
      stateOf([...paid, refundRequested('r-1', 300)]),
    );
    expect(decision).toEqual({
      ok: false,
      rejection: 'refund_id_conflict',
      detail: { field: 'amountMinor' },
    });
  });

  it.each(['constructor', '__proto__', 'toString'])('takes %s as an ordinary refundId', (id) => {
    given(paid)
      .when(requestRefund(id, 10))
      .then([refundRequested(id, 10)]);
    given([...paid, refundRequested(id, 10)])
      .when(requestRefund(id, 10))
      .then([]);
    given([...paid, refundRequested(id, 10)])
      .when(requestRefund('r-2', paidMinor - 10))
      .then([refundRequested('r-2', paidMinor - 10)]);
  });

  it.each<[string, PaymentEvent[]]>([
    ['pending', [created]],
    ['failed', [created, failed]],
    ['closed', [created, closed]],
    ['expired', [created, expired]],
  ])('rejects a payment that is %s', (_status, history) => {
    given(history).when(requestRefund('r-1', 1)).thenRejects('payment_not_succeeded');
  });

  it('rejects an unknown payment', () => {
    given([]).when(requestRefund('r-1', 1)).thenRejects('payment_not_found');
  });

  it('treats a zero amount as a bug (ajv validates it)', () => {
    expect(() => paymentAggregate.decide(requestRefund('r-1', 0), stateOf(paid))).toThrow(
      AssertionError,
    );
  });
});

describe('RecordRefundResult', () => {
  const inFlight = [...paid, refundRequested('r-1', 300)];

  it('records a success, moving the amount from refunding to refunded', () => {
    given(inFlight)
      .when(refundSucceeded('r-1'))
      .then([refundSucceededEvent('r-1', 300)]);
    given(inFlight)
      .when(refundSucceeded('r-1'))
      .thenState((state) => {
        expect(state).toMatchObject({ refundedMinor: 300, refundingMinor: 0 });
      });
  });

  it('records a failure, releasing the amount', () => {
    given(inFlight)
      .when(refundFailed('r-1'))
      .then([refundFailedEvent('r-1', 300)]);
    given(inFlight)
      .when(refundFailed('r-1'))
      .thenState((state) => expect(state).toMatchObject({ refundedMinor: 0, refundingMinor: 0 }));
  });

  it('ignores the same outcome again', () => {
    given([...inFlight, refundSucceededEvent('r-1', 300)])
      .when(refundSucceeded('r-1'))
      .then([]);
    given([...inFlight, refundFailedEvent('r-1', 300)])
      .when(refundFailed('r-1'))
      .then([]);
  });

  it('rejects the other outcome once resolved', () => {
    given([...inFlight, refundSucceededEvent('r-1', 300)])
      .when(refundFailed('r-1'))
      .thenRejects('refund_already_resolved');
    given([...inFlight, refundFailedEvent('r-1', 300)])
      .when(refundSucceeded('r-1'))
      .thenRejects('refund_already_resolved');
  });

  it.each(['r-2', 'constructor', '__proto__'])('rejects unknown refund %s', (id) => {
    given(inFlight).when(refundSucceeded(id)).thenRejects('refund_not_found');
    given(paid).when(refundFailed(id)).thenRejects('refund_not_found');
  });

  it('rejects an unknown payment', () => {
    given([]).when(refundSucceeded('r-1')).thenRejects('payment_not_found');
  });
});

describe('evolve refuses refund events decide could not have produced', () => {
  const inFlight = [...paid, refundRequested('r-1', 300)];
  it.each<[string, PaymentEvent[]]>([
    ['a refund above what was paid', [...paid, refundRequested('r-1', paidMinor + 1)]],
    [
      'refunds adding up above what was paid',
      [...paid, refundRequested('r-1', 600), refundRequested('r-2', 401)],
    ],
    ['a refund of a pending payment', [created, refundRequested('r-1', 1)]],
    ['the same refund requested twice', [...inFlight, refundRequested('r-1', 300)]],
    ['a result for an unknown refund', [...paid, refundSucceededEvent('r-1', 1)]],
    ['a result for another amount', [...inFlight, refundFailedEvent('r-1', 299)]],
    [
      'a second result',
      [...inFlight, refundFailedEvent('r-1', 300), refundSucceededEvent('r-1', 300)],
    ],
  ])('%s', (_name, events) => expect(() => stateOf(events)).toThrow(AssertionError));
});
