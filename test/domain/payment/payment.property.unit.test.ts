import fc from 'fast-check';
import {
  paymentAggregate,
  paymentRejections,
  type PaymentCommand,
  type PaymentEvent,
  type PaymentState,
} from '../../../domain/payment/payment.decider';
import {
  afterExpiry,
  close,
  created,
  expire,
  failedBy,
  paidBy,
  paidMinor,
  refundFailed,
  refundSucceeded,
  requestRefund,
  succeeded,
  terms,
} from './payment.fixtures';

/** Decides each command against the evolving state; returns every state and every event. */
const run = (history: readonly PaymentEvent[], commands: readonly PaymentCommand[]) => {
  let state = history.reduce(paymentAggregate.evolve, paymentAggregate.initialState);
  const states: PaymentState[] = [];
  const events: PaymentEvent[] = [];
  for (const command of commands) {
    const decision = paymentAggregate.decide(command, state);
    if (decision.ok) {
      state = decision.events.reduce(paymentAggregate.evolve, state);
      events.push(...decision.events);
    } else {
      expect(paymentRejections).toContain(decision.rejection);
    }
    states.push(state);
  }
  return { states, events };
};

const refundIds = ['r-1', 'r-2', 'r-3', 'r-4', 'r-5'];
const refundCommand = (paid: number): fc.Arbitrary<PaymentCommand> =>
  fc.oneof(
    fc
      .tuple(fc.constantFrom(...refundIds), fc.integer({ min: 1, max: paid + 1 }))
      .map(([id, amountMinor]) => requestRefund(id, amountMinor)),
    fc.constantFrom(...refundIds).map(refundSucceeded),
    fc.constantFrom(...refundIds).map(refundFailed),
  );

describe('payment properties', () => {
  it('never lets succeeded plus in-flight refunds exceed what was paid', () => {
    const scenario = fc
      .integer({ min: 1, max: 5_000 })
      .chain((paid) =>
        fc.tuple(fc.constant(paid), fc.array(refundCommand(paid), { maxLength: 40 })),
      );
    fc.assert(
      fc.property(scenario, ([paid, commands]) => {
        const history: PaymentEvent[] = [
          { type: 'PaymentCreated', data: { ...created.data, amountMinor: paid } },
          { type: 'PaymentSucceeded', data: { ...succeeded.data, amountMinor: paid } },
        ];
        for (const state of run(history, commands).states) {
          if (state.status !== 'succeeded') throw new Error(`payment became ${state.status}`);
          const refunds = Object.values(state.refunds);
          const sumOf = (status: string) =>
            refunds
              .filter((refund) => refund.status === status)
              .reduce((sum, refund) => sum + refund.amountMinor, 0);
          expect(state.refundedMinor).toBe(sumOf('succeeded'));
          expect(state.refundingMinor).toBe(sumOf('requested'));
          expect(state.refundedMinor + state.refundingMinor).toBeLessThanOrEqual(paid);
        }
      }),
    );
  });

  const channelCommand: fc.Arbitrary<PaymentCommand> = fc.oneof(
    fc
      .tuple(
        fc.constantFrom('tx-1', 'tx-2', 'tx-3'),
        fc.constantFrom(paidMinor - 1, paidMinor, paidMinor + 1),
        fc.constantFrom('EUR', 'USD'),
      )
      .map(([id, amountMinor, currency]) => paidBy(id, amountMinor, currency)),
    fc.constantFrom('tx-1', 'tx-2').map((id) => failedBy(id)),
    fc.constant(close),
    fc.constant(expire(afterExpiry)),
  );

  it('pays at most once, only the exact amount, and never leaves succeeded', () => {
    fc.assert(
      fc.property(fc.array(channelCommand, { maxLength: 30 }), (commands) => {
        const { states, events } = run([created], commands);
        const payments = events.filter((event) => event.type === 'PaymentSucceeded');
        expect(payments.length).toBeLessThanOrEqual(1);
        for (const payment of payments) {
          expect(payment.data).toMatchObject({ amountMinor: terms.amountMinor, currency: 'EUR' });
        }
        const firstPaid = states.findIndex((state) => state.status === 'succeeded');
        if (firstPaid >= 0) {
          expect(states.slice(firstPaid).every((state) => state.status === 'succeeded')).toBe(true);
        }
      }),
    );
  });
});
