import { createActorRuntime, MailboxFullError } from '../../../domain/actors/actor-runtime';
import { context, counter, increment, limits, tally, type CounterCommand } from './counter.fixture';
import { createProbeStore } from './probe-store.fixture';

const setup = (overrides: Parameters<typeof limits>[0] = {}) => {
  const probe = createProbeStore();
  return { probe, runtime: createActorRuntime(probe.store, limits(overrides)) };
};

const fire = (runtime: ReturnType<typeof setup>['runtime'], commands: CounterCommand[]) =>
  Promise.all(commands.map((command) => runtime.execute(counter, 'c1', command, context())));

const upTo = <T>(length: number, value: (index: number) => T): T[] =>
  Array.from({ length }, (_, index) => value(index));

describe('actor runtime: commands', () => {
  it('runs sequential commands against the evolving state', async () => {
    const { probe, runtime } = setup();
    const first = await runtime.execute(counter, 'c1', increment(1), context());
    const second = await runtime.execute(counter, 'c1', increment(2), context());
    const stored = await probe.events('counter-c1');
    expect(first).toEqual({
      ok: true,
      state: { total: 1, eventCount: 1 },
      revision: 0,
      position: stored[0]?.position,
      eventCount: 1,
    });
    expect(second).toMatchObject({ state: { total: 3 }, revision: 1 });
    expect(second.position).toBe(stored[1]?.position);
    expect(probe.counts.readStream).toBe(1); // Loaded once, then no reads on the hot path.
  });

  it('resolves a rejection with the unchanged state and appends nothing', async () => {
    const { probe, runtime } = setup();
    const refused = await runtime.execute(counter, 'c1', { type: 'Decrement', by: 1 }, context());
    expect(refused).toEqual({
      ok: false,
      rejection: 'counter_would_go_negative',
      detail: {},
      state: { total: 0, eventCount: 0 },
      revision: null,
      position: null,
    });
    const written = await runtime.execute(counter, 'c1', increment(1), context());
    const rejected = await runtime.execute(counter, 'c1', { type: 'Decrement', by: 2 }, context());
    expect(rejected).toMatchObject({ ok: false, state: { total: 1 }, revision: 0 });
    expect(rejected.position).toBe(written.position);
    expect(probe.counts.append).toBe(1);
  });

  it('answers an accepted no-op with the last revision and position, no append', async () => {
    const { probe, runtime } = setup();
    const written = await runtime.execute(counter, 'c1', increment(5), context());
    const touched = await runtime.execute(counter, 'c1', { type: 'Touch' }, context());
    expect(touched).toEqual({ ...written, eventCount: 0 });
    expect(probe.counts.append).toBe(1);
  });

  it('batches concurrent commands into far fewer appends, in order', async () => {
    const { probe, runtime } = setup();
    const outcomes = await fire(
      runtime,
      upTo(50, () => increment(1)),
    );
    const totals = outcomes.map((outcome) => outcome.ok && outcome.state.total);
    expect(totals).toEqual(upTo(50, (index) => index + 1));
    expect(outcomes.map((outcome) => outcome.revision)).toEqual(upTo(50, (index) => index));
    expect(probe.counts.append).toBeLessThanOrEqual(2);
    const read = await runtime.read(counter, 'c1');
    expect(read).toMatchObject({ state: { total: 50 }, revision: 49 });
  });

  it('never decides more than batchCommandCountMax commands into one append', async () => {
    const { probe, runtime } = setup({ batchCommandCountMax: 10 });
    await fire(
      runtime,
      upTo(50, () => increment(1)),
    );
    expect(probe.counts.append).toBe(5);
  });

  it('reports per command the revision and state after its own events', async () => {
    const { probe, runtime } = setup();
    const outcomes = await fire(runtime, [
      { type: 'Touch' },
      increment(1),
      { type: 'Decrement', by: 9 },
      { type: 'IncrementEach', steps: [2, 3] },
    ]);
    const position = (await probe.events('counter-c1'))[2]?.position;
    const at = (total: number, eventCount: number) => ({ total, eventCount });
    expect(probe.counts.append).toBe(1);
    expect(outcomes).toEqual([
      { ok: true, state: at(0, 0), revision: null, position: null, eventCount: 0 },
      { ok: true, state: at(1, 1), revision: 0, position, eventCount: 1 },
      expect.objectContaining({ ok: false, state: at(1, 1), revision: 0, position }),
      { ok: true, state: at(6, 3), revision: 2, position, eventCount: 2 },
    ]);
  });

  it('fails fast with MailboxFullError past mailboxDepthMax', async () => {
    const { runtime } = setup({ mailboxDepthMax: 3 });
    const settled = await Promise.allSettled(
      upTo(10, () => runtime.execute(counter, 'c1', increment(1), context())),
    );
    const failures = settled.flatMap((result) =>
      result.status === 'rejected' ? [result.reason] : [],
    );
    expect(settled.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
    expect(failures).toHaveLength(7);
    expect(failures[0]).toBeInstanceOf(MailboxFullError);
    expect(failures[0]).toMatchObject({ stream: 'counter-c1' });
    expect((failures[0] as MailboxFullError).retryAfterMs).toBeGreaterThan(0);
  });

  it('keeps aggregates sharing the runtime apart by stream', async () => {
    const { probe, runtime } = setup();
    await runtime.execute(counter, 'x', increment(1), context());
    await runtime.execute(tally, 'x', increment(7), context());
    await expect(runtime.read(counter, 'x')).resolves.toMatchObject({ state: { total: 1 } });
    expect(await probe.events('tally-x')).toHaveLength(1);
    expect(runtime.liveActorCount()).toBe(2);
  });
});
