import { createActorRuntime } from '../../../domain/actors/actor-runtime';
import { AssertionError } from '../../../domain/assert';
import { EMPTY_CHAIN, verifyChain } from '../../../domain/event-chain';
import { context, counter, increment, limits, type CounterCommand } from './counter.fixture';
import { createProbeStore, gate } from './probe-store.fixture';

const setup = (overrides: Parameters<typeof limits>[0] = {}) => {
  const probe = createProbeStore();
  return { probe, runtime: createActorRuntime(probe.store, limits(overrides)) };
};

describe('actor runtime: events written', () => {
  it('derives event ids from eventIdSeed, so a retried command carries the same ids', async () => {
    const idsFor = async (seed: string | null) => {
      const { probe, runtime } = setup();
      const command: CounterCommand = { type: 'IncrementEach', steps: [1, 2] };
      await runtime.execute(counter, 'c1', command, context({ eventIdSeed: seed }));
      return (await probe.events('counter-c1')).map((event) => event.id);
    };
    const seeded = await idsFor('transfer-1:debit');
    expect(await idsFor('transfer-1:debit')).toEqual(seeded);
    expect(new Set(seeded).size).toBe(2);
    expect(await idsFor('transfer-1:credit')).not.toEqual(seeded);
    const random = await idsFor(null);
    expect(random.every((id) => id[14] === '7')).toBe(true); // The uuid version digit.
    expect(await idsFor(null)).not.toEqual(random);
  });

  it('stores each command context as metadata and seals a verifiable hash chain', async () => {
    const { probe, runtime } = setup();
    const dated = (day: number) =>
      context({ correlationId: `corr-${day}`, now: `2025-01-0${day}T00:00:00.000Z` });
    await Promise.all(
      [1, 2, 3, 4, 5].map((day) => runtime.execute(counter, 'c1', increment(1), dated(day))),
    );
    const keyed = context({ idempotencyKey: 'key-1', causationId: 'cause-1' });
    await runtime.execute(counter, 'c1', increment(1), keyed);
    const stored = await probe.events('counter-c1');
    expect(stored[3]?.metadata).toMatchObject({
      correlationId: 'corr-4',
      occurredAt: '2025-01-04T00:00:00.000Z',
      schemaVersion: 1,
    });
    expect(stored[5]?.metadata).toMatchObject({
      idempotencyKey: 'key-1',
      causationId: 'cause-1',
      actor: { clientId: 'client-1' },
    });
    expect(verifyChain(EMPTY_CHAIN, stored)).toMatchObject({ ok: true, tail: { nextRevision: 6 } });
  });
});

describe('actor runtime: read, load and close', () => {
  it('reads a never-written stream as the initial state without keeping an actor', async () => {
    const { runtime } = setup();
    await expect(runtime.read(counter, 'none')).resolves.toEqual({
      state: { total: 0, eventCount: 0 },
      revision: null,
      position: null,
    });
    expect(runtime.liveActorCount()).toBe(0);
  });

  it('loads a stream in pages of streamLoadEventCountMax, then appends after it', async () => {
    const { probe, runtime } = setup();
    const fiveSteps: CounterCommand = { type: 'IncrementEach', steps: [1, 1, 1, 1, 1] };
    await runtime.execute(counter, 'c1', fiveSteps, context());
    const reader = createActorRuntime(probe.store, limits({ streamLoadEventCountMax: 2 }));
    const readsBefore = probe.counts.readStream;
    const read = await reader.read(counter, 'c1');
    expect(read).toMatchObject({ state: { total: 5 }, revision: 4 });
    expect(probe.counts.readStream - readsBefore).toBe(3);
    const outcome = await reader.execute(counter, 'c1', increment(1), context());
    expect(outcome).toMatchObject({ state: { total: 6 }, revision: 5 });
    expect(verifyChain(EMPTY_CHAIN, await probe.events('counter-c1')).ok).toBe(true);
  });

  it('close waits for in-flight appends, and execute after close is a bug', async () => {
    const { probe, runtime } = setup();
    const held = gate();
    probe.intercept(async (next) => {
      await held.opened;
      return next();
    });
    const outcome = runtime.execute(counter, 'c1', increment(1), context());
    let closed = false;
    const closing = runtime.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    held.open();
    await closing;
    await expect(outcome).resolves.toMatchObject({ ok: true, revision: 0 });
    const late = runtime.execute(counter, 'c1', increment(1), context());
    await expect(late).rejects.toBeInstanceOf(AssertionError);
  });

  it('refuses limits that are not positive integers', () => {
    const { probe } = setup();
    const create = (overrides: Parameters<typeof limits>[0]) => () =>
      createActorRuntime(probe.store, limits(overrides));
    expect(create({ mailboxDepthMax: 0 })).toThrow(AssertionError);
    expect(create({ idleMsMax: 1.5 })).toThrow(AssertionError);
    expect(create({ conflictRetryCountMax: -1 })).toThrow(AssertionError);
    expect(create({ conflictRetryCountMax: 0 })).not.toThrow();
  });
});
