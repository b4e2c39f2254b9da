import { createInMemoryEventStore } from '../../../adapters/eventstore/in-memory.event-store';
import { createActorRuntime } from '../../../domain/actors/actor-runtime';
import type { IdempotencyRecord } from '../../../domain/ports/event-store.port';
import { context, counter, increment, limits } from './counter.fixture';

const recordOf = (key: string): IdempotencyRecord => ({
  scope: 'channel-callback:test',
  key,
  fingerprint: 'test',
  response: { status: 200, body: null, headers: {} },
  createdAtMs: 1000,
});

const setup = () => {
  const store = createInMemoryEventStore();
  const runtime = createActorRuntime(store, limits());
  const stored = (key: string) => store.readIdempotencyRecord('channel-callback:test', key);
  return { store, runtime, stored };
};

describe('actor runtime: records committed with a command', () => {
  it("stores a command's record in the append of its events, at their position", async () => {
    const { runtime, stored } = setup();
    const outcome = await runtime.execute(
      counter,
      'c1',
      increment(2),
      context({ records: [recordOf('k1')] }),
    );
    expect(outcome).toMatchObject({ ok: true, eventCount: 1 });
    expect(await stored('k1')).toMatchObject({ key: 'k1', position: outcome.position });
  });

  it('writes no record for a command that appends nothing or is rejected', async () => {
    const { runtime, stored } = setup();
    const touched = await runtime.execute(
      counter,
      'c1',
      { type: 'Touch' },
      context({ records: [recordOf('k-touch')] }),
    );
    const rejected = await runtime.execute(
      counter,
      'c1',
      { type: 'Decrement', by: 5 },
      context({ records: [recordOf('k-rejected')] }),
    );
    expect([touched.ok, rejected.ok]).toEqual([true, false]);
    expect([await stored('k-touch'), await stored('k-rejected')]).toEqual([null, null]);
  });

  it('writes a key carried by two commands of one batch once, with both their events', async () => {
    const { runtime, stored, store } = setup();
    const same = context({ records: [recordOf('k-twice')] });
    const outcomes = await Promise.all([
      runtime.execute(counter, 'c1', increment(1), same),
      runtime.execute(counter, 'c1', increment(2), same),
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true]);
    expect(await stored('k-twice')).not.toBeNull();
    const events = await store.readStream('counter-c1', {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(events).toHaveLength(2);
  });

  it('appends the events when the key was stored first by another append', async () => {
    const { runtime, stored, store } = setup();
    await store.appendMulti([], [recordOf('k-first')]);
    const first = await stored('k-first');
    const outcome = await runtime.execute(
      counter,
      'c1',
      increment(3),
      context({ records: [recordOf('k-first'), recordOf('k-new')] }),
    );
    expect(outcome).toMatchObject({ ok: true, eventCount: 1, state: { total: 3 } });
    expect(await stored('k-first')).toEqual(first);
    expect(await stored('k-new')).toMatchObject({ position: outcome.position });
  });
});
