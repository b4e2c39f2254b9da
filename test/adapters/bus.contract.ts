import type { BusMessage, DeliveryOutcome, MessageBus } from '../../domain/ports/bus.port';
import { eventuallyTrue } from '../support/eventually';

/** The MessageBus port's meaning, run unchanged against every adapter. */
const CONSUMER = { ackWaitMs: 5000, deliveryCountMax: 3, backoffMs: [10, 20] };

const collect = (
  bus: MessageBus,
  durableName: string,
  subjects: string[],
  decide: (message: BusMessage) => DeliveryOutcome = () => ({ kind: 'ack' }),
) => {
  const seen: BusMessage[] = [];
  const consumption = bus.consume({ ...CONSUMER, durableName, subjects }, (message) => {
    seen.push(message);
    return Promise.resolve(decide(message));
  });
  return { seen, consumption };
};

const until = (condition: () => boolean, what: string): Promise<void> =>
  eventuallyTrue(condition, { timeoutMs: 8000, what });

export const busContract = (adapterName: string, open: () => Promise<MessageBus>): void =>
  describe(`MessageBus contract: ${adapterName}`, () => {
    let bus: MessageBus;
    beforeEach(async () => {
      bus = await open();
    });
    afterEach(() => bus.close());

    it('delivers matching subjects in order and drops a repeated message id', async () => {
      const { seen, consumption } = collect(bus, 'c_order', ['ledger.events.payment.*']);
      await consumption;
      await bus.publish('ledger.events.payment.A', 'id-1', { n: 1 });
      await bus.publish('ledger.events.payment.A', 'id-1', { n: 1 });
      await bus.publish('ledger.events.account.B', 'id-2', { n: 2 });
      await bus.publish('ledger.events.payment.C', 'id-3', { n: 3 });
      // The marker, delivered in order after anything that must not arrive, ends the wait.
      await bus.publish('ledger.events.payment.M', 'id-marker', { n: 4 });
      await until(() => seen.some((message) => message.id === 'id-marker'), 'the marker');
      expect(seen.map((message) => [message.subject, message.id, message.payload['n']])).toEqual([
        ['ledger.events.payment.A', 'id-1', 1],
        ['ledger.events.payment.C', 'id-3', 3],
        ['ledger.events.payment.M', 'id-marker', 4],
      ]);
      await (await consumption).stop();
    });

    it('carries the publisher headers (a traceparent) to the consumer, and none when none were set', async () => {
      const { seen, consumption } = collect(bus, 'c_headers', ['ledger.events.h.*']);
      await consumption;
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await bus.publish('ledger.events.h.A', 'id-h1', { n: 1 }, { traceparent });
      await bus.publish('ledger.events.h.B', 'id-h2', { n: 2 });
      await until(() => seen.length >= 2, 'both messages');
      expect(seen.map((message) => message.headers)).toEqual([{ traceparent }, {}]);
      await (await consumption).stop();
    });

    it('redelivers a retried message with a growing delivery count, then dead-letters it with the reason', async () => {
      const { seen, consumption } = collect(bus, 'c_retry', ['ledger.events.x.*'], () => ({
        kind: 'retry',
        reason: 'not yet',
      }));
      const dead = collect(bus, 'c_dead', [`${bus.deadLetterPrefix}.ledger.events.x.>`]);
      await consumption;
      await dead.consumption;
      await bus.publish('ledger.events.x.Y', 'id-r', { n: 1 });
      await until(() => dead.seen.length >= 1, 'the dead letter');
      expect(seen.map((message) => message.deliveryCount)).toEqual([1, 2, 3]);
      expect(dead.seen[0]?.subject).toBe(`${bus.deadLetterPrefix}.ledger.events.x.Y`);
      expect(dead.seen[0]?.payload).toMatchObject({ reason: 'not yet', deliveryCount: 3 });
      await (await consumption).stop();
      await (await dead.consumption).stop();
    });

    it('treats a throwing handler as a retry, and a dead_letter outcome as final at once', async () => {
      let calls = 0;
      const consumption = bus.consume(
        { ...CONSUMER, durableName: 'c_throw', subjects: ['ledger.events.t.*'] },
        (message) => {
          calls += 1;
          if (message.id === 'poison')
            return Promise.resolve({ kind: 'dead_letter', reason: 'malformed' });
          if (calls === 1) throw new Error('boom');
          return Promise.resolve({ kind: 'ack' });
        },
      );
      const dead = collect(bus, 'c_dead2', [`${bus.deadLetterPrefix}.ledger.events.t.>`]);
      await consumption;
      await dead.consumption;
      await bus.publish('ledger.events.t.A', 'flaky', { n: 1 });
      await until(() => calls >= 2, 'the redelivery after the throw');
      await bus.publish('ledger.events.t.A', 'poison', { n: 2 });
      await until(() => dead.seen.length >= 1, 'the dead letter');
      expect(calls).toBe(3);
      expect(dead.seen.map((message) => message.payload['reason'])).toEqual(['malformed']);
      await (await consumption).stop();
      await (await dead.consumption).stop();
    });

    it('stores a burst of publishes awaited together in publish order, and a repeated burst not again', async () => {
      const { seen, consumption } = collect(bus, 'c_burst', ['ledger.events.burst.*']);
      await consumption;
      const burst = Array.from({ length: 300 }, (_, index) => index);
      const publishAll = (): Promise<void[]> =>
        Promise.all(
          burst.map((index) => bus.publish('ledger.events.burst.A', `burst-${index}`, { index })),
        );
      await publishAll();
      await publishAll(); // A relay restarted after a crash publishes the same ids again.
      await bus.publish('ledger.events.burst.M', 'burst-marker', { index: -1 });
      await until(() => seen.some((message) => message.id === 'burst-marker'), 'the marker');
      expect(seen.map((message) => message.payload['index'])).toEqual([...burst, -1]);
      await (await consumption).stop();
    });

    it('lets a durable consumer started later see messages published before it', async () => {
      await bus.publish('ledger.events.late.A', 'early-1', { n: 1 });
      const { seen, consumption } = collect(bus, 'c_late', ['ledger.events.late.*']);
      await consumption;
      await until(() => seen.length >= 1, 'the early message');
      expect(seen.map((message) => message.id)).toEqual(['early-1']);
      await (await consumption).stop();
    });
  });
