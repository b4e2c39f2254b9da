import {
  ConflictRetriesExhaustedError,
  createActorRuntime,
} from '../../../domain/actors/actor-runtime';
import { AssertionError } from '../../../domain/assert';
import { EMPTY_CHAIN, verifyChain } from '../../../domain/event-chain';
import { UnavailableError, type AppendResult } from '../../../domain/ports/event-store.port';
import { context, counter, increment, limits } from './counter.fixture';
import { createProbeStore } from './probe-store.fixture';

const setup = (conflictRetryCountMax = 3) => {
  const probe = createProbeStore();
  const seen: string[] = [];
  const onEvent = (name: string): void => {
    seen.push(name);
  };
  const runtime = createActorRuntime(probe.store, limits({ conflictRetryCountMax }), { onEvent });
  return { probe, runtime, seen };
};

const conflict: AppendResult = { ok: false, reason: 'revision_conflict', revisionActual: 7 };

describe('actor runtime: conflicts', () => {
  it('reloads and re-decides when another process wrote the stream', async () => {
    const { probe, runtime, seen } = setup();
    await runtime.execute(counter, 'c1', increment(1), context());
    const otherProcess = createActorRuntime(probe.inner, limits());
    await otherProcess.execute(counter, 'c1', increment(10), context());
    const outcome = await runtime.execute(counter, 'c1', increment(100), context());
    expect(outcome).toMatchObject({ state: { total: 111, eventCount: 3 }, revision: 2 });
    expect(probe.counts.append).toBe(3);
    expect(probe.counts.readStream).toBe(2);
    expect(seen).toContain('actor_conflict');
    expect(verifyChain(EMPTY_CHAIN, await probe.events('counter-c1')).ok).toBe(true);
  });

  it('fails the whole batch after conflictRetryCountMax retries, i.e. N+1 attempts', async () => {
    const { probe, runtime } = setup(3);
    probe.intercept(() => Promise.resolve(conflict));
    const settled = await Promise.allSettled([
      runtime.execute(counter, 'c1', increment(1), context()),
      runtime.execute(counter, 'c1', { type: 'Decrement', by: 5 }, context()),
    ]);
    expect(settled.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    const [first] = settled;
    const error: unknown = first?.status === 'rejected' ? first.reason : null;
    expect(error).toBeInstanceOf(ConflictRetriesExhaustedError);
    expect(error).toMatchObject({ stream: 'counter-c1', attemptCount: 4 });
    expect(probe.counts.append).toBe(4);
    expect(probe.counts.readStream).toBe(4); // The first load, then one reload per retry.
  });

  it('recovers once the conflicts stop', async () => {
    const { probe, runtime } = setup(0);
    probe.intercept(() => Promise.resolve(conflict));
    await expect(runtime.execute(counter, 'c1', increment(1), context())).rejects.toBeInstanceOf(
      ConflictRetriesExhaustedError,
    );
    expect(probe.counts.append).toBe(1);
    probe.intercept((next) => next());
    await expect(runtime.execute(counter, 'c1', increment(2), context())).resolves.toMatchObject({
      state: { total: 2 },
      revision: 0,
    });
  });
});

describe('actor runtime: failures drop the actor', () => {
  it('rejects with the append error and reloads on the next command', async () => {
    const { probe, runtime, seen } = setup();
    await runtime.execute(counter, 'c1', increment(1), context());
    probe.intercept(() => Promise.reject(new UnavailableError('store down')));
    await expect(runtime.execute(counter, 'c1', increment(2), context())).rejects.toBeInstanceOf(
      UnavailableError,
    );
    expect(seen).toContain('actor_dropped');
    expect(runtime.liveActorCount()).toBe(0);
    probe.intercept((next) => next());
    const readsBefore = probe.counts.readStream;
    const outcome = await runtime.execute(counter, 'c1', increment(4), context());
    expect(probe.counts.readStream).toBe(readsBefore + 1);
    expect(outcome).toMatchObject({ ok: true, state: { total: 5 }, revision: 1 });
  });

  it('picks up an append whose answer was lost, by reloading', async () => {
    const { probe, runtime } = setup();
    probe.intercept(async (next) => {
      await next();
      throw new UnavailableError('connection reset after write');
    });
    const lost = runtime.execute(counter, 'c1', increment(1), context());
    await expect(lost).rejects.toThrow('connection reset');
    probe.intercept((next) => next());
    const outcome = await runtime.execute(counter, 'c1', increment(2), context());
    expect(outcome).toMatchObject({ ok: true, state: { total: 3, eventCount: 2 }, revision: 1 });
  });

  it('rejects the batch with a decider AssertionError and reloads next time', async () => {
    const { probe, runtime } = setup();
    await runtime.execute(counter, 'c1', increment(1), context());
    const settled = await Promise.allSettled([
      runtime.execute(counter, 'c1', increment(2), context()),
      runtime.execute(counter, 'c1', { type: 'Explode' }, context()),
    ]);
    for (const result of settled) {
      expect(result.status === 'rejected' && result.reason).toBeInstanceOf(AssertionError);
    }
    expect(probe.counts.append).toBe(1);
    const outcome = await runtime.execute(counter, 'c1', increment(4), context());
    expect(outcome).toMatchObject({ ok: true, state: { total: 5 }, revision: 1 });
    expect(probe.counts.readStream).toBe(2);
  });

  it('rejects with a load failure and loads again for the next command', async () => {
    const { probe, runtime } = setup();
    probe.failReads(new UnavailableError('store down'));
    await expect(runtime.execute(counter, 'c1', increment(1), context())).rejects.toBeInstanceOf(
      UnavailableError,
    );
    await expect(runtime.read(counter, 'c1')).rejects.toBeInstanceOf(UnavailableError);
    probe.failReads(null);
    await expect(runtime.execute(counter, 'c1', increment(1), context())).resolves.toMatchObject({
      revision: 0,
    });
  });

  it('keeps serving when the observability hook throws', async () => {
    const probe = createProbeStore();
    const onEvent = (): void => {
      throw new Error('logger broken');
    };
    const runtime = createActorRuntime(probe.store, limits(), { onEvent });
    await expect(runtime.execute(counter, 'c1', increment(1), context())).resolves.toMatchObject({
      ok: true,
    });
    probe.intercept(() => Promise.reject(new UnavailableError('store down')));
    await expect(runtime.execute(counter, 'c1', increment(1), context())).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });
});
