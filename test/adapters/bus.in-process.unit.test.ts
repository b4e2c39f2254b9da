import { createInProcessBus } from '../../adapters/bus/in-process.bus';
import { subjectMatches } from '../../adapters/bus/subject-match';
import { busContract } from './bus.contract';

busContract('in-process (rxjs)', () =>
  Promise.resolve(
    createInProcessBus({
      retainedMessageCountMax: 1000,
      deliveryConcurrencyMax: 16,
      duplicateWindowMs: 60_000,
      deadLetterPrefix: 'ledger.deadletter',
      clock: Date.now,
    }),
  ),
);

describe('subject matching', () => {
  it.each([
    ['ledger.events.*.*', 'ledger.events.payment.PaymentCreated', true],
    ['ledger.events.>', 'ledger.events.payment.PaymentCreated', true],
    ['ledger.events.>', 'ledger.events', false],
    ['ledger.events.payment.*', 'ledger.events.account.AccountOpened', false],
    ['ledger.events.payment.*', 'ledger.events.payment.A.B', false],
  ])('%s vs %s → %s', (filter, subject, expected) => {
    expect(subjectMatches(filter, subject)).toBe(expected);
  });
});
