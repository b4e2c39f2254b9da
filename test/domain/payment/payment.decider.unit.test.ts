import { AssertionError } from '../../../domain/assert';
import {
  paymentAggregate,
  paymentTermFields,
  type PaymentCommand,
  type PaymentEvent,
} from '../../../domain/payment/payment.decider';
import { deciderSpec } from '../../support/decider-spec';
import {
  afterExpiry,
  beforeExpiry,
  close,
  closed,
  create,
  created,
  createdAt,
  expire,
  expired,
  expiresAt,
  failed,
  succeeded,
  terms,
} from './payment.fixtures';

const given = deciderSpec(paymentAggregate);
const decide = (history: readonly PaymentEvent[], command: PaymentCommand) => {
  const state = history.reduce(paymentAggregate.evolve, paymentAggregate.initialState);
  return paymentAggregate.decide(command, state);
};

describe('CreatePayment', () => {
  it('creates a pending payment stamped with now', () => {
    given([]).when(create()).then([created]);
    given([])
      .when(create())
      .thenState((state) => expect(state.status).toBe('pending'));
  });

  it('answers an identical retry with no events, even after the payment moved on', () => {
    given([created]).when(create()).then([]);
    given([created, succeeded])
      .when(create({ now: afterExpiry }))
      .then([]);
  });

  const changed: Record<(typeof paymentTermFields)[number], string | number> = {
    paymentId: 'pay-2',
    merchantId: 'merchant-2',
    merchantOrderNo: 'order-2',
    amountMinor: 1001,
    currency: 'USD',
    channel: 'stripe',
    subject: 'Basic plan',
    creditAccountId: 'account-other',
    expiresAt: '2030-01-01T00:31:00.000Z',
    notifyUrl: 'https://shop.example/notify',
    returnUrl: 'https://shop.example/return',
    description: 'order 2',
  };
  it.each(paymentTermFields)('rejects a retry whose %s differs, naming the field', (field) => {
    const decision = decide([created], create({ [field]: changed[field] }));
    expect(decision).toEqual({ ok: false, rejection: 'payment_already_exists', detail: { field } });
  });

  it('names the first differing field when several differ', () => {
    const decision = decide([created], create({ subject: 'x', amountMinor: 5 }));
    expect(decision.ok ? null : decision.detail).toEqual({ field: 'amountMinor' });
  });

  it('rejects an expiry equal to now and accepts one a millisecond later', () => {
    given([])
      .when(create({ expiresAt: createdAt }))
      .thenRejects('expiry_not_in_future');
    const expiresAtNext = '2030-01-01T00:00:00.001Z';
    given([])
      .when(create({ expiresAt: expiresAtNext }))
      .then([{ type: 'PaymentCreated', data: { ...terms, expiresAt: expiresAtNext, createdAt } }]);
  });

  it('compares instants, not text: an offset expiry that is textually later is in the past', () => {
    const offsetExpiry = '2030-01-01T00:30:00+01:00';
    given([])
      .when(create({ expiresAt: offsetExpiry }))
      .thenRejects('expiry_not_in_future');
  });

  it.each([
    ['amountMinor 0', { amountMinor: 0 }],
    ['a fractional amountMinor', { amountMinor: 1.5 }],
    ['an unknown currency', { currency: 'XXY' }],
    ['a now that is no instant', { now: 'yesterday' }],
  ])('treats %s as a bug (ajv validates it)', (_name, overrides) => {
    expect(() => decide([], create(overrides))).toThrow(AssertionError);
  });
});

describe('ClosePayment', () => {
  it('closes a pending payment', () => {
    given([created])
      .when(close)
      .then([
        { type: 'PaymentClosed', data: { reason: 'order_cancelled', closedAt: beforeExpiry } },
      ]);
  });

  it('is a no-op on a closed payment', () => given([created, closed]).when(close).then([]));

  it('rejects a succeeded payment', () =>
    given([created, succeeded]).when(close).thenRejects('payment_already_succeeded'));

  it.each([
    ['failed', failed],
    ['expired', expired],
  ])('rejects a payment that is %s', (_status, event) =>
    given([created, event]).when(close).thenRejects('payment_not_pending'),
  );

  it('rejects an unknown payment', () => given([]).when(close).thenRejects('payment_not_found'));
});

describe('ExpirePayment', () => {
  it('expires a pending payment exactly at expiresAt', () => {
    given([created]).when(expire(expiresAt)).then([expired]);
  });

  it('refuses a millisecond before expiresAt', () => {
    const decision = decide([created], expire('2030-01-01T00:29:59.999Z'));
    expect(decision).toEqual({
      ok: false,
      rejection: 'payment_not_expired_yet',
      detail: { expiresAt },
    });
  });

  it('is a no-op on an expired payment', () => given([created, expired]).when(expire()).then([]));

  it.each([
    ['succeeded', succeeded],
    ['failed', failed],
    ['closed', closed],
  ])('rejects a payment that is %s', (_status, event) =>
    given([created, event]).when(expire(afterExpiry)).thenRejects('payment_not_pending'),
  );

  it('rejects an unknown payment', () => given([]).when(expire()).thenRejects('payment_not_found'));
});

describe('evolve refuses streams decide could not have produced', () => {
  const replay = (events: readonly PaymentEvent[]) => () =>
    events.reduce(paymentAggregate.evolve, paymentAggregate.initialState);

  it.each<[string, PaymentEvent[]]>([
    ['a second PaymentCreated', [created, created]],
    ['created expired', [{ ...created, data: { ...created.data, createdAt: expiresAt } }]],
    ['a success before creation', [succeeded]],
    ['a close after success', [created, succeeded, closed]],
    ['a failure after close', [created, closed, failed]],
    ['an expiry before expiresAt', [created, { ...expired, data: { expiredAt: createdAt } }]],
    ['an expiry after failure', [created, failed, expired]],
  ])('%s', (_name, events) => expect(replay(events)).toThrow(AssertionError));
});
