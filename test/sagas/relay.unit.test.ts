import { createInProcessBus } from '../../adapters/bus/in-process.bus';
import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.port';
import type { BusMessage } from '../../domain/ports/bus.port';
import type { EventStore } from '../../domain/ports/event-store.port';
import { CHECKPOINT_STREAM } from '../../domain/audit/checkpoint-events';
import { createRelay, RELAY_CHECKPOINT } from '../../sagas/relay';
import { eventuallyTrue } from '../support/eventually';

const appendEvents = async (
  store: EventStore,
  count: number,
  streamOf: (index: number) => string = (index) => `probe-${index}`,
): Promise<bigint> => {
  for (let index = 0; index < count; index += 1) {
    const result = await store.append(
      streamOf(index),
      [
        {
          id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
          type: 'Probed',
          data: { index },
          metadata: {
            correlationId: 'c',
            causationId: null,
            actor: { clientId: 'admin', role: 'admin', ip: '127.0.0.1' },
            idempotencyKey: null,
            occurredAt: new Date(0).toISOString(),
            schemaVersion: 1,
            hash: 'h',
          },
        },
      ],
      { kind: 'no_stream' },
    );
    if (!result.ok) throw new Error('append refused');
  }
  const head = await store.headPosition();
  if (head === null) throw new Error('empty log');
  return head;
};

const newBus = () =>
  createInProcessBus({
    retainedMessageCountMax: 10_000,
    deliveryConcurrencyMax: 8,
    duplicateWindowMs: 60_000,
    deadLetterPrefix: 'ledger.deadletter',
    clock: Date.now,
  });

describe('the relay', () => {
  it('does not publish the signed checkpoints copied into the log, yet moves past them', async () => {
    const store = createInMemoryEventStore();
    const bus = newBus();
    const delivered: BusMessage[] = [];
    await bus.consume(
      {
        durableName: 'all',
        subjects: ['ledger.events.>'],
        ackWaitMs: 1000,
        deliveryCountMax: 1,
        backoffMs: [10],
      },
      (message) => {
        delivered.push(message);
        return Promise.resolve({ kind: 'ack' });
      },
    );
    const saved: bigint[] = [];
    const relay = createRelay({
      store,
      bus,
      checkpoints: {
        load: () => Promise.resolve(null),
        save: (_name, position) => {
          saved.push(position);
          return Promise.resolve();
        },
      },
      windowEventCountMax: 4,
      checkpointIntervalMs: 0,
      retryPauseMs: 10,
      clock: Date.now,
      onWarning: () => undefined,
    });
    await relay.start();
    // The middle one is a checkpoint's copy, the last is the log's head.
    const head = await appendEvents(store, 3, (index) =>
      index === 1 ? CHECKPOINT_STREAM : `probe-${index}`,
    );
    await eventuallyTrue(() => relay.position() === head, {
      timeoutMs: 5000,
      what: 'the relay past the last event',
    });
    await relay.stop();
    expect(delivered.map((message) => message.subject)).toEqual([
      'ledger.events.probe.Probed',
      'ledger.events.probe.Probed',
    ]);
    expect(saved.at(-1)).toBe(head);
    await bus.close();
  });

  it('moves its checkpoint at most once per interval, never past what the bus stored, and to the head at stop', async () => {
    const store = createInMemoryEventStore();
    const bus = createInProcessBus({
      retainedMessageCountMax: 10_000,
      deliveryConcurrencyMax: 8,
      duplicateWindowMs: 60_000,
      deadLetterPrefix: 'ledger.deadletter',
      clock: Date.now,
    });
    const delivered: BusMessage[] = [];
    await bus.consume(
      {
        durableName: 'all',
        subjects: ['ledger.events.>'],
        ackWaitMs: 1000,
        deliveryCountMax: 1,
        backoffMs: [10],
      },
      (message) => {
        delivered.push(message);
        return Promise.resolve({ kind: 'ack' });
      },
    );
    const saves: { position: bigint; publishedCount: number }[] = [];
    const checkpoints: CheckpointStore = {
      load: () => Promise.resolve(null),
      save: (name, position) => {
        expect(name).toBe(RELAY_CHECKPOINT);
        saves.push({ position, publishedCount: delivered.length });
        return Promise.resolve();
      },
    };
    const relay = createRelay({
      store,
      bus,
      checkpoints,
      windowEventCountMax: 4,
      checkpointIntervalMs: 60_000,
      retryPauseMs: 10,
      clock: () => 0, // Time stands still: the first save's interval never runs out.
      onWarning: () => undefined,
    });
    await relay.start();
    const head = await appendEvents(store, 50);
    await eventuallyTrue(() => delivered.length === 50 && saves.length > 0, {
      timeoutMs: 5000,
      what: 'every event delivered and the first checkpoint saved',
    });
    // Many windows went out, but the interval allows one save (the first).
    expect(saves.length).toBe(1);
    await relay.stop();
    expect(saves.at(-1)?.position).toBe(head);
    const positions = saves.map((save) => save.position);
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    for (const save of saves)
      expect(BigInt(save.publishedCount)).toBeGreaterThanOrEqual(save.position);
    expect(new Set(delivered.map((message) => message.id)).size).toBe(50);
    await bus.close();
  });
});
