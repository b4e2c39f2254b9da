import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { EMPTY_CHAIN, sealEvents } from '../../domain/event-chain';
import type { EventStore } from '../../domain/ports/event-store.port';
import type { DocumentChange, ReadModelStore } from '../../domain/ports/read-model-store.port';
import { createProjectionRunner } from '../../projections/projection-runner';
import type { Projection } from '../../projections/projection';
import { eventuallyTrue } from '../support/eventually';
import { testContext } from '../support/ledger-harness';

/** Counts the events of each stream: one document per stream, changed by every event. */
const counting: Projection = {
  name: 'counting',
  collections: [{ name: 'counts', indexes: [] }],
  apply: async (event, context) => {
    const document = await context.get('counts', event.stream);
    const count = typeof document?.['count'] === 'number' ? document['count'] : 0;
    context.put('counts', event.stream, { count: count + 1 });
  },
};

const appendOne = async (store: EventStore, stream: string, revision: number | null) => {
  const { events } = sealEvents(stream, EMPTY_CHAIN, [
    {
      id: `00000000-0000-7000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`,
      type: 'Counted',
      data: {},
      metadata: { ...testContext(), occurredAt: testContext().now, schemaVersion: 1 },
    },
  ]);
  // Chains are not checked here: only the runner's batching is under test.
  const expected =
    revision === null ? { kind: 'no_stream' as const } : { kind: 'exact' as const, revision };
  const appended = await store.append(stream, events, expected);
  expect(appended.ok).toBe(true);
};

/** A read-model store whose commits wait for `release` while `held` is true, and are recorded. */
const recordingStore = (inner: ReadModelStore) => {
  const commits: { changeCount: number; position: bigint | null; atMs: number }[] = [];
  let held = true;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = () => {
      held = false;
      resolve();
    };
  });
  const store: ReadModelStore = {
    ...inner,
    commit: async (changes: readonly DocumentChange[], checkpoint) => {
      commits.push({
        changeCount: changes.length,
        position: checkpoint?.position ?? null,
        atMs: Date.now(),
      });
      if (held) await gate;
      await inner.commit(changes, checkpoint);
    },
  };
  return { store, commits, release: () => release() };
};

const WAIT = { timeoutMs: 2500, intervalMs: 5 };

/** The event store, telling the position of the last event its subscriptions handed out. */
const deliveringStore = (inner: EventStore) => {
  let delivered: bigint | null = null;
  const store: EventStore = {
    ...inner,
    subscribeToAll: (options) => {
      const live = inner.subscribeToAll(options);
      return {
        close: () => live.close(),
        [Symbol.asyncIterator]: async function* () {
          for await (const event of live) {
            delivered = event.position;
            yield event;
          }
        },
      };
    },
  };
  return { store, delivered: () => delivered };
};

describe('the projection runner, following live appends', () => {
  const setUp = async (batchEventCountMax: number, liveBatchGapMs = 0) => {
    const delivering = deliveringStore(createInMemoryEventStore());
    const eventStore = delivering.store;
    const inner = createSqliteReadModelStore({ database: openSqliteDatabase(':memory:') });
    await inner.ensureCollection({ name: 'counts', indexes: [] });
    const recording = recordingStore(inner);
    const runner = createProjectionRunner({
      eventStore,
      store: recording.store,
      projections: [counting],
      collectionName: (name) => name,
      checkpointName: 'counting',
      batchEventCountMax,
      cachedDocumentCountMax: 10,
      liveBatchGapMs,
      onCommitted: () => undefined,
    });
    await runner.load();
    return { eventStore, inner, runner, delivered: delivering.delivered, ...recording };
  };

  it('applies what arrived while a batch was committing as one next batch', async () => {
    const { eventStore, inner, runner, commits, release, delivered } = await setUp(1000);
    const following = runner.follow();
    await appendOne(eventStore, 'counter-a', null);
    // The first batch is now held in its commit.
    await eventuallyTrue(() => commits.length === 1, {
      ...WAIT,
      what: 'the first batch committing',
    });
    // Each append in its own macrotask, as requests arrive: each is delivered on its own (the
    // 1 ms pause paces the arrivals; it proves nothing).
    for (let revision = 0; revision < 30; revision += 1) {
      await appendOne(eventStore, 'counter-a', revision);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const head = await eventStore.headPosition();
    await eventuallyTrue(() => delivered() === head, {
      ...WAIT,
      what: 'the subscription handing out all thirty',
    });
    release();
    await eventuallyTrue(() => runner.position() === head, {
      ...WAIT,
      what: 'the runner at the head',
    });
    await runner.stop();
    await following;
    // One event, then the thirty that queued behind it: two commits, the second of one document.
    expect(commits.map((commit) => commit.changeCount)).toEqual([1, 1]);
    expect((await inner.get('counts', 'counter-a'))?.['count']).toBe(31);
  });

  it('never makes a batch larger than batchEventCountMax, and applies every event once', async () => {
    const { eventStore, inner, runner, commits, release } = await setUp(4);
    const following = runner.follow();
    await appendOne(eventStore, 'counter-b', null);
    await eventuallyTrue(() => commits.length === 1, {
      ...WAIT,
      what: 'the first batch committing',
    });
    for (let revision = 0; revision < 10; revision += 1) {
      await appendOne(eventStore, 'counter-b', revision);
      await appendOne(eventStore, `counter-c${revision}`, null);
    }
    release();
    const head = await eventStore.headPosition();
    await eventuallyTrue(() => runner.position() === head, {
      ...WAIT,
      what: 'the runner at the head',
    });
    await runner.stop();
    await following;
    const positions = commits.map((commit) => commit.position ?? 0n);
    const sizes = positions.map((position, index) => position - (positions[index - 1] ?? 0n));
    expect(sizes.every((size) => size >= 1n && size <= 4n)).toBe(true);
    expect(positions[positions.length - 1]).toBe(head);
    expect((await inner.get('counts', 'counter-b'))?.['count']).toBe(11);
    expect((await inner.get('counts', 'counter-c9'))?.['count']).toBe(1);
  });

  it('coalesces appends that arrive one by one into batches started at least the gap apart', async () => {
    const gapMs = 40;
    const { eventStore, inner, runner, commits, release } = await setUp(1000, gapMs);
    release();
    const following = runner.follow();
    await appendOne(eventStore, 'counter-g', null);
    await eventuallyTrue(() => commits.length === 1, { ...WAIT, what: 'the first batch' });
    // Arrivals one by one, each append awaited: they land while the runner waits out the gap.
    for (let revision = 0; revision < 30; revision += 1)
      await appendOne(eventStore, 'counter-g', revision);
    const head = await eventStore.headPosition();
    await eventuallyTrue(() => runner.position() === head, { ...WAIT, what: 'the head' });
    await runner.stop();
    await following;
    expect((await inner.get('counts', 'counter-g'))?.['count']).toBe(31);
    // A commit follows its batch's start by the fold's time: a few ms of slack.
    const apartMs = commits.slice(1).map((commit, index) => commit.atMs - commits[index]!.atMs);
    expect(Math.min(...apartMs)).toBeGreaterThanOrEqual(gapMs - 5);
  });

  it('starts at once, without the gap, a batch a reader waits for', async () => {
    const { eventStore, inner, runner, commits, release } = await setUp(1000, 60_000);
    release();
    const following = runner.follow();
    await appendOne(eventStore, 'counter-h', null);
    await eventuallyTrue(() => commits.length === 1, { ...WAIT, what: 'the first batch' });
    await appendOne(eventStore, 'counter-h', 0);
    const head = await eventStore.headPosition();
    runner.requestCommit(head ?? 0n, 5000);
    // Within WAIT, far inside the 60 s gap: the reader's wait started the batch.
    await eventuallyTrue(() => runner.position() === head, { ...WAIT, what: 'the head' });
    await runner.stop();
    await following;
    expect((await inner.get('counts', 'counter-h'))?.['count']).toBe(2);
  });
});

describe('the projection runner, catching up', () => {
  it('drops from its cache a document it read from the store and wrote in a batch too large to cache', async () => {
    // Counts as `counting` does, and writes two documents nobody reads after each count: the
    // count comes first in the batch, so it is the one left out of the cache after the commit.
    const countingWithNoise: Projection = {
      name: 'counting_with_noise',
      collections: [...counting.collections, { name: 'noise', indexes: [] }],
      apply: async (event, context) => {
        await counting.apply(event, context);
        context.put('noise', `${event.id}-1`, {});
        context.put('noise', `${event.id}-2`, {});
      },
    };
    const eventStore = createInMemoryEventStore();
    const store = createSqliteReadModelStore({ database: openSqliteDatabase(':memory:') });
    for (const spec of countingWithNoise.collections) await store.ensureCollection(spec);
    for (const revision of [null, 0, 1]) await appendOne(eventStore, 'counter-x', revision);
    const runner = createProjectionRunner({
      eventStore,
      store,
      projections: [countingWithNoise],
      collectionName: (name) => name,
      checkpointName: 'counting',
      batchEventCountMax: 1,
      cachedDocumentCountMax: 2,
      onCommitted: () => undefined,
    });
    await runner.load();
    await runner.catchUp({ untilPosition: null, untilTime: null }, () => undefined);
    expect((await store.get('counts', 'counter-x'))?.['count']).toBe(3);
  });
  it('keeps no copy of a projection that keeps its own documents: its reads go to the store', async () => {
    // A batch projection reading each stream's count when it meets it, then putting it.
    const keeping: Projection = {
      name: 'keeping',
      collections: [{ name: 'kept_counts', indexes: [] }],
      keepsOwnDocuments: true,
      openUnit: () => ({
        applyBatch: async (events, context) => {
          for (const event of events) {
            const found = await context.getMany('kept_counts', [event.stream]);
            const count = found.get(event.stream)?.['count'];
            const next = (typeof count === 'number' ? count : 0) + 1;
            context.put('kept_counts', event.stream, { count: next });
          }
        },
        flush: () => undefined,
        heldDocumentCount: () => 0,
      }),
    };
    const eventStore = createInMemoryEventStore();
    const inner = createSqliteReadModelStore({ database: openSqliteDatabase(':memory:') });
    const storeReads: string[][] = [];
    const store: ReadModelStore = {
      ...inner,
      getMany: (collection, ids) => {
        storeReads.push([...ids]);
        return inner.getMany(collection, ids);
      },
    };
    for (const spec of keeping.collections) await store.ensureCollection(spec);
    for (const revision of [null, 0, 1]) await appendOne(eventStore, 'counter-k', revision);
    const runner = createProjectionRunner({
      eventStore,
      store,
      projections: [keeping],
      collectionName: (name) => name,
      checkpointName: 'keeping',
      batchEventCountMax: 1,
      cachedDocumentCountMax: 100,
      onCommitted: () => undefined,
    });
    await runner.load();
    await runner.catchUp({ untilPosition: null, untilTime: null }, () => undefined);
    // One batch (and commit) per event: each read found the last commit in the store, not a copy.
    expect(storeReads).toEqual([['counter-k'], ['counter-k'], ['counter-k']]);
    expect((await store.get('kept_counts', 'counter-k'))?.['count']).toBe(3);
  });
});
