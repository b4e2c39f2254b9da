import { createActorRuntime } from '../../../domain/actors/actor-runtime';
import { context, counter, increment, limits } from './counter.fixture';
import { createProbeStore, gate } from './probe-store.fixture';

const setup = (overrides: Parameters<typeof limits>[0]) => {
  const probe = createProbeStore();
  return { probe, runtime: createActorRuntime(probe.store, limits(overrides)) };
};

/** Lets an actor finish its drain (it settles its commands a few microtasks before that). */
const drainTick = () => new Promise((resolve) => setImmediate(resolve));

const holdAppends = (probe: ReturnType<typeof createProbeStore>) => {
  const held = gate();
  probe.intercept(async (next) => {
    await held.opened;
    return next();
  });
  return held;
};

describe('actor runtime: LRU bound', () => {
  it('keeps at most actorCountMax actors across 20,000 distinct aggregates', async () => {
    const { runtime } = setup({ actorCountMax: 1_000 });
    let liveMax = 0;
    for (let chunk = 0; chunk < 200; chunk += 1) {
      const ids = Array.from({ length: 100 }, (_, i) => `id-${chunk}-${i}`);
      await Promise.all(ids.map((id) => runtime.execute(counter, id, increment(1), context())));
      liveMax = Math.max(liveMax, runtime.liveActorCount());
    }
    expect(liveMax).toBeLessThanOrEqual(1_000);
    expect(runtime.liveActorCount()).toBe(1_000);
  });

  it('evicts the least recently used actor first', async () => {
    const { probe, runtime } = setup({ actorCountMax: 2 });
    for (const id of ['a', 'b', 'a', 'c']) {
      await runtime.execute(counter, id, increment(1), context());
    }
    const readsBefore = probe.counts.readStream;
    await runtime.execute(counter, 'a', increment(1), context());
    expect(probe.counts.readStream).toBe(readsBefore); // a was used recently: still live.
    await runtime.execute(counter, 'b', increment(1), context());
    expect(probe.counts.readStream).toBe(readsBefore + 1); // b was evicted: reloaded.
  });

  it('never evicts an actor with work in flight, and evicts it once idle', async () => {
    const { probe, runtime } = setup({ actorCountMax: 1 });
    const held = holdAppends(probe);
    const busy = runtime.execute(counter, 'busy', increment(1), context());
    await drainTick();
    probe.intercept((next) => next());
    await runtime.execute(counter, 'other', increment(1), context());
    expect(runtime.liveActorCount()).toBe(2);
    held.open();
    await expect(busy).resolves.toMatchObject({ ok: true, state: { total: 1 } });
    await drainTick();
    expect(runtime.liveActorCount()).toBe(1);
  });
});

describe('actor runtime: idle passivation', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('passivates actors idle longer than idleMsMax and reloads them on use', async () => {
    const { probe, runtime } = setup({ idleMsMax: 1_000 });
    await runtime.execute(counter, 'c1', increment(1), context());
    await drainTick();
    jest.advanceTimersByTime(500);
    await runtime.execute(counter, 'c2', increment(1), context());
    await drainTick();
    jest.advanceTimersByTime(500); // The sweep at 1,000 ms: c1 idle 1,000 ms, c2 only 500 ms.
    expect(runtime.liveActorCount()).toBe(1);
    await expect(runtime.read(counter, 'c2')).resolves.toMatchObject({ state: { total: 1 } });
    jest.advanceTimersByTime(1_000);
    expect(runtime.liveActorCount()).toBe(0);
    const readsBefore = probe.counts.readStream;
    const outcome = await runtime.execute(counter, 'c1', increment(1), context());
    expect(outcome).toMatchObject({ state: { total: 2 } });
    expect(probe.counts.readStream).toBe(readsBefore + 1);
    await runtime.close();
  });

  it('does not passivate an actor with an append in flight', async () => {
    const { probe, runtime } = setup({ idleMsMax: 1_000 });
    const held = holdAppends(probe);
    const outcome = runtime.execute(counter, 'c1', increment(1), context());
    jest.advanceTimersByTime(5_000);
    expect(runtime.liveActorCount()).toBe(1);
    held.open();
    await expect(outcome).resolves.toMatchObject({ ok: true });
    await runtime.close();
  });
});
