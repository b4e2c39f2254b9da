import { createInMemorySnapshotStore } from '../../../adapters/snapshots/in-memory.snapshot-store';
import { createActorRuntime, type ActorRuntime } from '../../../domain/actors/actor-runtime';
import type { SavedSnapshot, SnapshotStore } from '../../../domain/ports/snapshot-store.port';
import { context, counter, increment, limits, snapshottedCounter } from './counter.fixture';
import { createProbeStore } from './probe-store.fixture';

const EVERY = 10;
const STREAM = 'snapcounter-c1';

const setup = (snapshotStore: SnapshotStore = createInMemorySnapshotStore()) => {
  const probe = createProbeStore();
  const reported: { name: string; fields: Record<string, unknown> }[] = [];
  const start = (options: { snapshots: boolean } = { snapshots: true }) =>
    createActorRuntime(probe.store, limits(), {
      ...(options.snapshots ? { snapshots: { store: snapshotStore, everyEventCount: EVERY } } : {}),
      onEvent: (name, fields) => reported.push({ name, fields }),
    });
  const reportedNamed = (name: string) => reported.filter((report) => report.name === name);
  return { probe, snapshotStore, reportedNamed, start };
};

const incrementTimes = async (runtime: ActorRuntime, aggregate: typeof counter, times: number) => {
  for (let index = 0; index < times; index += 1) {
    await runtime.execute(aggregate, 'c1', increment(index + 1), context());
  }
};

const sumTo = (count: number) => (count * (count + 1)) / 2;

describe('actor runtime: snapshots', () => {
  it('saves one every everyEventCount events and a new runtime loads from it', async () => {
    const { probe, snapshotStore, start } = setup();
    await incrementTimes(start(), snapshottedCounter, 25);
    const saved = await snapshotStore.load(STREAM);
    expect(saved).toMatchObject({ revision: 19, schemaVersion: 1 });
    expect(saved?.state).toEqual({ total: sumTo(20), eventCount: 20 });
    const atRevision19 = (await probe.events(STREAM))[19];
    expect(saved).toMatchObject({
      position: atRevision19?.position,
      lastHash: atRevision19?.metadata.hash,
    });

    const readBefore = probe.counts.eventsRead;
    const restarted = start();
    await expect(restarted.read(snapshottedCounter, 'c1')).resolves.toMatchObject({
      state: { total: sumTo(25), eventCount: 25 },
      revision: 24,
    });
    // The anchor event at revision 19, then revisions 20-24: not the 25 of a full fold.
    expect(probe.counts.eventsRead - readBefore).toBe(6);
    const outcome = await restarted.execute(snapshottedCounter, 'c1', increment(100), context());
    expect(outcome).toMatchObject({ ok: true, revision: 25, state: { total: sumTo(25) + 100 } });
  });

  it('saves none for an aggregate without a codec', async () => {
    const { snapshotStore, start } = setup();
    await incrementTimes(start(), counter, 25);
    await expect(snapshotStore.load('counter-c1')).resolves.toBeNull();
  });

  it('saves one when a load folded everyEventCount events or more', async () => {
    const { snapshotStore, start } = setup();
    await incrementTimes(start({ snapshots: false }), snapshottedCounter, 12);
    await expect(snapshotStore.load(STREAM)).resolves.toBeNull();
    await start().execute(snapshottedCounter, 'c1', { type: 'Touch' }, context());
    await expect(snapshotStore.load(STREAM)).resolves.toMatchObject({ revision: 11 });
  });

  describe('a snapshot that does not match the log is not used', () => {
    const withSaved = async (damage: (saved: SavedSnapshot) => SavedSnapshot) => {
      const fixture = setup();
      await incrementTimes(fixture.start(), snapshottedCounter, 15);
      const saved = await fixture.snapshotStore.load(STREAM);
      if (saved === null) throw new Error('fixture: no snapshot saved');
      await fixture.snapshotStore.save(damage(saved));
      const read = await fixture.start().read(snapshottedCounter, 'c1');
      const reasons = fixture.reportedNamed('snapshot_rejected').map((r) => r.fields.reason);
      return { read, reasons };
    };

    it.each([
      [
        'another hash',
        (saved: SavedSnapshot) => ({ ...saved, lastHash: 'f'.repeat(64), state: { total: 1 } }),
        'the event at 9 is not the one it was saved at',
      ],
      [
        'another position',
        (saved: SavedSnapshot) => ({ ...saved, position: saved.position + 1n }),
        'the event at 9 is not the one it was saved at',
      ],
      [
        'a revision past the stream',
        (saved: SavedSnapshot) => ({ ...saved, revision: 99 }),
        'no event at 99',
      ],
      [
        'another schema version',
        (saved: SavedSnapshot) => ({ ...saved, schemaVersion: 2 }),
        'schema version 2, expected 1',
      ],
      [
        'a state the codec refuses',
        (saved: SavedSnapshot) => ({ ...saved, state: { total: -5, eventCount: 10 } }),
        'undecodable state: AssertionError: total: not a safe integer ≥ 0',
      ],
    ])('%s: folds the whole stream and reports why', async (_name, damage, reason) => {
      const { read, reasons } = await withSaved(damage);
      expect(read).toMatchObject({ state: { total: sumTo(15), eventCount: 15 }, revision: 14 });
      expect(reasons).toEqual([reason]);
    });
  });

  it('a failing save is reported and the command still succeeds', async () => {
    const failing: SnapshotStore = {
      load: () => Promise.resolve(null),
      save: () => Promise.reject(new Error('disk full')),
      listStreams: () => Promise.resolve([]),
    };
    const { start, reportedNamed } = setup(failing);
    const runtime = start();
    await incrementTimes(runtime, snapshottedCounter, 10);
    await expect(runtime.read(snapshottedCounter, 'c1')).resolves.toMatchObject({ revision: 9 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(reportedNamed('snapshot_save_failed')).toEqual([
      {
        name: 'snapshot_save_failed',
        fields: expect.objectContaining({ stream: STREAM, revision: 9 }),
      },
    ]);
  });

  it('folds the whole stream when the snapshot store cannot be read, and says why', async () => {
    const fixture = setup();
    await incrementTimes(fixture.start(), snapshottedCounter, 12);
    const broken: SnapshotStore = {
      ...fixture.snapshotStore,
      load: () => Promise.reject(new Error('disk I/O error')),
    };
    const reported: unknown[] = [];
    const runtime = createActorRuntime(fixture.probe.store, limits(), {
      snapshots: { store: broken, everyEventCount: EVERY },
      onEvent: (name, fields) => reported.push({ name, ...fields }),
    });
    const outcome = await runtime.execute(snapshottedCounter, 'c1', increment(1), context());
    expect(outcome).toMatchObject({ ok: true, revision: 12, state: { total: sumTo(12) + 1 } });
    expect(reported).toContainEqual({
      name: 'snapshot_rejected',
      stream: STREAM,
      reason: 'unreadable: Error: disk I/O error',
    });
  });

  it('refuses an everyEventCount that is not a positive integer', () => {
    const { probe } = setup();
    const store = createInMemorySnapshotStore();
    for (const everyEventCount of [0, -1, 1.5]) {
      expect(() =>
        createActorRuntime(probe.store, limits(), { snapshots: { store, everyEventCount } }),
      ).toThrow('snapshots.everyEventCount must be a positive integer');
    }
  });
});
