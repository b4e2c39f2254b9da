import { createInProcessBus } from '../../adapters/bus/in-process.bus';
import { createSubjectMatcher, subjectMatches } from '../../adapters/bus/subject-match';
import { eventuallyTrue } from '../support/eventually';
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

  it('a matcher of several filters answers as the filters do, also past what it remembers', () => {
    const matches = createSubjectMatcher(['ledger.events.payment.*', 'ledger.events.account.>']);
    const prefixes = ['ledger.events.payment', 'ledger.events.account', 'ledger.events.transfer'];
    // 1,500 distinct subjects, more than a matcher remembers, each seen twice.
    const subjects = Array.from(
      { length: 1500 },
      (_, index) => `${prefixes[index % 3] ?? ''}.Type${index}`,
    );
    const twice = [...subjects, ...subjects];
    expect(twice.map(matches)).toEqual(
      twice.map((subject) => !subject.startsWith('ledger.events.transfer')),
    );
  });
});

describe('the in-process bus retention window', () => {
  it('replays exactly the last retainedMessageCountMax messages to a consumer started later', async () => {
    const bus = createInProcessBus({
      retainedMessageCountMax: 3,
      deliveryConcurrencyMax: 1,
      duplicateWindowMs: 60_000,
      deadLetterPrefix: 'ledger.deadletter',
      clock: Date.now,
    });
    for (let n = 1; n <= 10; n += 1) await bus.publish('ledger.events.x.Y', `id-${n}`, { n });
    const seen: unknown[] = [];
    const consumption = await bus.consume(
      {
        durableName: 'late',
        subjects: ['ledger.events.>'],
        ackWaitMs: 1000,
        deliveryCountMax: 1,
        backoffMs: [10],
      },
      (message) => {
        seen.push(message.payload['n']);
        return Promise.resolve({ kind: 'ack' });
      },
    );
    // A marker published after the replay: once it arrives, the replay is complete.
    await bus.publish('ledger.events.x.Y', 'id-marker', { n: 11 });
    await eventuallyTrue(() => seen.includes(11), { timeoutMs: 2000, what: 'the marker' });
    expect(seen).toEqual([8, 9, 10, 11]);
    await consumption.stop();
    await bus.close();
  });
});

describe('the in-process bus duplicate window', () => {
  it('drops a repeated id within duplicateWindowMs and takes it again after, on its clock', async () => {
    let nowMs = 1_000_000;
    const bus = createInProcessBus({
      retainedMessageCountMax: 100,
      deliveryConcurrencyMax: 1,
      duplicateWindowMs: 120_000,
      deadLetterPrefix: 'ledger.deadletter',
      clock: () => nowMs,
    });
    const seen: unknown[] = [];
    const consumption = await bus.consume(
      {
        durableName: 'window',
        subjects: ['ledger.events.>'],
        ackWaitMs: 1000,
        deliveryCountMax: 1,
        backoffMs: [10],
      },
      (message) => {
        seen.push(message.payload['n']);
        return Promise.resolve({ kind: 'ack' });
      },
    );
    await bus.publish('ledger.events.x.Y', 'id-1', { n: 1 });
    nowMs += 120_000 - 1;
    await bus.publish('ledger.events.x.Y', 'id-1', { n: 2 }); // Within the window: dropped.
    nowMs += 1;
    await bus.publish('ledger.events.x.Y', 'id-1', { n: 3 }); // The window has passed.
    await eventuallyTrue(() => seen.includes(3), { timeoutMs: 2000, what: 'the third publish' });
    expect(seen).toEqual([1, 3]);
    await consumption.stop();
    await bus.close();
  });
});
