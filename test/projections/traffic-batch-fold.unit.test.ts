import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { withReadSideLog } from '../../bin/read-side-log';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import { parseStored } from '../../domain/aggregate';
import type { EventStore, JsonObject } from '../../domain/ports/event-store.port';
import type { DocumentChange, ReadModelStore } from '../../domain/ports/read-model-store.port';
import {
  TRAFFIC_SHARD_COUNT,
  trafficAggregate,
  trafficShardOf,
} from '../../domain/traffic/traffic.decider';
import { asJson, type Projection } from '../../projections/projection';
import { checkpointOf, collectionIn, READ_MODELS } from '../../projections/read-models';
import {
  NODE_TRAFFIC,
  TRAFFIC,
  trafficProjection,
  trafficProjectionWith,
  trafficStateOf,
  trafficViewOf,
} from '../../projections/traffic.projection';
import { eventuallyTrue } from '../support/eventually';
import { createLedger, testContext } from '../support/ledger-harness';
import { generationOneRunner } from './support/generation-runner';

const USER_COUNT = 24;
const REPORT_COUNT = 30;
const userIdOf = (index: number): string => `user-${index}`;
const at = (minute: number): string => new Date(Date.UTC(2026, 10, 22, 10, minute)).toISOString();

/**
 * Grants (some with a plan), reports that push some users past their quota (QuotasExceeded),
 * resets that start a new period, and reports after them: every kind of traffic event, each user
 * changed by many of them.
 */
const writeTraffic = async (store: EventStore): Promise<void> => {
  const { runtime } = createLedger(store);
  let minute = 0;
  const run = async (userId: string, command: unknown): Promise<void> => {
    minute += 1;
    const outcome = await runtime.execute(
      trafficAggregate,
      trafficShardOf(userId),
      command as never,
      testContext({ now: at(minute) }),
    );
    if (!(outcome as { ok: boolean }).ok) throw new Error(`refused: ${JSON.stringify(outcome)}`);
  };
  for (let index = 0; index < USER_COUNT; index += 1) {
    const userId = userIdOf(index);
    const subscription =
      index % 3 === 0
        ? {
            purchaseId: `buy-${index}`,
            planId: 'plan-a',
            level: 1 + (index % 2),
            group: index % 2 === 0 ? 'default' : 'vip',
            durationSeconds: 30 * 86_400,
            amountMinor: 500,
            currency: 'EUR',
          }
        : undefined;
    await run(userId, {
      type: 'GrantQuota',
      data: {
        userId,
        grantId: `g-${index}`,
        quotaBytes: 1_000 + index * 100,
        reason: 'plan',
        now: at(minute),
        ...(subscription === undefined ? {} : { subscription }),
      },
    });
  }
  for (let report = 0; report < REPORT_COUNT; report += 1) {
    if (report === REPORT_COUNT / 2)
      for (let index = 0; index < USER_COUNT; index += 4)
        await run(userIdOf(index), {
          type: 'ResetQuota',
          data: {
            userId: userIdOf(index),
            resetId: `reset-${index}`,
            quotaBytes: 5_000,
            now: at(minute),
          },
        });
    // One report per shard, as the writer splits a node's report.
    const byShard = new Map<
      string,
      { userId: string; uploadBytes: number; downloadBytes: number }[]
    >();
    for (let index = 0; index < USER_COUNT; index += 1) {
      if ((index + report) % 3 === 0) continue;
      const userId = userIdOf(index);
      const usages = byShard.get(trafficShardOf(userId)) ?? [];
      usages.push({ userId, uploadBytes: 17 + index, downloadBytes: 3 * report + index });
      byShard.set(trafficShardOf(userId), usages);
    }
    for (const [shard, usages] of byShard) {
      const first = usages[0];
      if (first === undefined) continue;
      await run(first.userId, {
        type: 'RecordUsage',
        data: {
          reportId: `r-${report}-${shard}`,
          nodeId: `node-${report % 2}`,
          usages,
          now: at(minute),
        },
      });
    }
  }
  await runtime.close();
};

/** The traffic and node-day documents by id. */
const dumpTraffic = async (store: ReadModelStore): Promise<Record<string, JsonObject[]>> => {
  const dump: Record<string, JsonObject[]> = {};
  for (const logical of [TRAFFIC, NODE_TRAFFIC])
    dump[logical] = (
      await store.find(collectionIn(logical, 1), {
        where: {},
        range: null,
        orderBy: { field: logical === TRAFFIC ? 'userId' : 'nodeId', direction: 'asc' },
        offset: 0,
        limit: 10_000,
      })
    ).documents;
  return dump;
};

/** The traffic documents each commit writes, by id, counted; and the traffic ids read. */
const recording = (inner: ReadModelStore) => {
  const commits: Map<string, number>[] = [];
  const reads: string[] = [];
  const store: ReadModelStore = {
    ...inner,
    getMany: async (collection, ids) => {
      if (collection === collectionIn(TRAFFIC, 1)) reads.push(...ids);
      return inner.getMany(collection, ids);
    },
    commit: async (changes: readonly DocumentChange[], checkpoint) => {
      const writes = new Map<string, number>();
      for (const { collection, id } of changes)
        if (collection === collectionIn(TRAFFIC, 1)) writes.set(id, (writes.get(id) ?? 0) + 1);
      commits.push(writes);
      await inner.commit(changes, checkpoint);
    },
  };
  return { store, commits, reads };
};

const foldAll = async (
  eventStore: EventStore,
  limits: Parameters<typeof generationOneRunner>[2],
  projections: Parameters<typeof generationOneRunner>[3] = READ_MODELS,
) => {
  const { store, commits, reads } = recording(createSqliteReadModelStore({ path: ':memory:' }));
  const runner = await generationOneRunner(eventStore, store, limits, projections);
  await runner.catchUp({ untilPosition: null, untilTime: null }, () => undefined);
  return { store, commits, reads, runner };
};

describe('the traffic projection folding a whole batch', () => {
  it('writes each user once per batch and ends with the documents of one event per batch', async () => {
    const eventStore = createInMemoryEventStore();
    await writeTraffic(eventStore);
    const eventCount = (await eventStore.readAll({ afterPosition: null, eventCountMax: 10_000 }))
      .length;
    const oneByOne = await foldAll(eventStore, {
      batchEventCountMax: 1,
      cachedDocumentCountMax: 0,
    });
    const whole = await foldAll(eventStore, {
      batchEventCountMax: 5_000,
      cachedDocumentCountMax: 0,
    });
    const sevens = await foldAll(eventStore, { batchEventCountMax: 7, cachedDocumentCountMax: 3 });
    expect(oneByOne.commits.length).toBe(eventCount);
    expect(whole.commits.length).toBe(1);
    const expected = await dumpTraffic(oneByOne.store);
    expect(expected[TRAFFIC]).toHaveLength(USER_COUNT);
    expect(await dumpTraffic(whole.store)).toEqual(expected);
    expect(await dumpTraffic(sevens.store)).toEqual(expected);
    // One write per user in the whole batch, though each user was changed by many events.
    expect([...(whole.commits[0]?.values() ?? [])]).toEqual(Array(USER_COUNT).fill(1));
    for (const commit of sevens.commits) for (const count of commit.values()) expect(count).toBe(1);

    // The documents hold what the write side decided: each user's state folded from its shard.
    const decided = new Map<string, unknown>();
    for (let shard = 0; shard < TRAFFIC_SHARD_COUNT; shard += 1) {
      const events = await eventStore.readStream(`trafficshard-${String(shard).padStart(2, '0')}`, {
        fromRevision: 0,
        direction: 'forwards',
        eventCountMax: 10_000,
      });
      const state = events.reduce(
        (folded, event) => trafficAggregate.evolve(folded, parseStored(trafficAggregate, event)),
        trafficAggregate.initialState,
      );
      for (const [userId, user] of state.users) decided.set(userId, user);
    }
    const exceededCount = (expected[TRAFFIC] ?? []).filter(
      (doc) => doc['exceeded'] === true,
    ).length;
    expect(exceededCount).toBeGreaterThan(0);
    expect(exceededCount).toBeLessThan(USER_COUNT);
    for (const doc of expected[TRAFFIC] ?? [])
      expect([doc['userId'], trafficStateOf(doc)]).toEqual([
        doc['userId'],
        decided.get(String(doc['userId'])),
      ]);
  });

  it('folds the embedded log read through the read side log reader (usages from the text) the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'traffic-text-'));
    try {
      const path = join(dir, 'events.sqlite');
      const eventStore = createSqliteEventStore({ path });
      await writeTraffic(eventStore);
      const reader = withReadSideLog(createSqliteEventStore({ path }), {
        path,
        pollMs: 50,
        externalAppends: null,
      });
      const events = await reader.readAll({ afterPosition: null, eventCountMax: 10_000 });
      const reports = events.filter((event) => event.type === 'UsageReported');
      expect(reports.length).toBeGreaterThan(0);
      for (const report of reports) expect(report).toHaveProperty('dataText');
      const limits = { batchEventCountMax: 7, cachedDocumentCountMax: 3 };
      const expected = await dumpTraffic((await foldAll(eventStore, limits)).store);
      const read = await foldAll(reader, limits);
      expect(await dumpTraffic(read.store)).toEqual(expected);
      // Live, through its subscription, to the same documents.
      const liveStore = createSqliteReadModelStore({ path: ':memory:' });
      const live = await generationOneRunner(reader, liveStore, limits);
      const following = live.follow();
      const head = await eventStore.headPosition();
      await eventuallyTrue(() => live.position() === head, {
        timeoutMs: 10_000,
        what: 'the log followed',
      });
      await live.stop();
      await following;
      expect(await dumpTraffic(liveStore)).toEqual(expected);
      await reader.close();
      await eventStore.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves the documents as they are when the batch is applied again (a lost checkpoint)', async () => {
    const eventStore = createInMemoryEventStore();
    await writeTraffic(eventStore);
    const { store } = await foldAll(eventStore, {
      batchEventCountMax: 5_000,
      cachedDocumentCountMax: 0,
    });
    const before = await dumpTraffic(store);
    await store.deleteCheckpoint(checkpointOf(1));
    const again = await generationOneRunner(eventStore, store, {
      batchEventCountMax: 11,
      cachedDocumentCountMax: 0,
    });
    await again.catchUp({ untilPosition: null, untilTime: null }, () => undefined);
    expect(await dumpTraffic(store)).toEqual(before);
  });

  it('keeps users in memory across the batches of a unit and writes each once per unit', async () => {
    const eventStore = createInMemoryEventStore();
    await writeTraffic(eventStore);
    const expected = await dumpTraffic(
      (await foldAll(eventStore, { batchEventCountMax: 1, cachedDocumentCountMax: 0 })).store,
    );
    // A clock that never moves: only the document bound ends a unit.
    const oneUnit = await foldAll(eventStore, {
      batchEventCountMax: 7,
      cachedDocumentCountMax: 3,
      unitMsMax: 60_000,
      nowMs: () => 0,
    });
    expect(oneUnit.commits).toHaveLength(1);
    expect([...(oneUnit.commits[0]?.values() ?? [])]).toEqual(Array(USER_COUNT).fill(1));
    expect(await dumpTraffic(oneUnit.store)).toEqual(expected);
    const bounded = await foldAll(eventStore, {
      batchEventCountMax: 7,
      cachedDocumentCountMax: 3,
      unitMsMax: 60_000,
      unitDocumentCountMax: 10,
      nowMs: () => 0,
    });
    expect(bounded.commits.length).toBeGreaterThan(1);
    for (const commit of bounded.commits)
      for (const count of commit.values()) expect(count).toBe(1);
    expect(await dumpTraffic(bounded.store)).toEqual(expected);
  });

  it('carries the users over to the next unit without reading them back, or reads them all again', async () => {
    const eventStore = createInMemoryEventStore();
    await writeTraffic(eventStore);
    const expected = await dumpTraffic(
      (await foldAll(eventStore, { batchEventCountMax: 1, cachedDocumentCountMax: 0 })).store,
    );
    const limits = {
      batchEventCountMax: 7,
      cachedDocumentCountMax: 1_000,
      unitMsMax: 60_000,
      unitDocumentCountMax: 10,
      nowMs: () => 0,
    };
    // Kept: each user is read once (absent, the first time), whatever the units.
    const carried = await foldAll(eventStore, limits);
    expect(carried.commits.length).toBeGreaterThan(3);
    expect([...carried.reads].sort()).toEqual(
      Array.from({ length: USER_COUNT }, (_, index) => userIdOf(index)).sort(),
    );
    expect(await dumpTraffic(carried.store)).toEqual(expected);
    // None kept: every unit reads its users again, from the runner's cache (users it wrote
    // without reading them must not be served stale from there) or the store.
    const withoutTraffic = READ_MODELS.filter((projection) => projection !== trafficProjection);
    for (const retainedUserCountMax of [0, USER_COUNT / 2]) {
      const reread = await foldAll(eventStore, limits, [
        ...withoutTraffic,
        trafficProjectionWith(retainedUserCountMax),
      ]);
      expect(reread.commits.length).toBeGreaterThan(3);
      expect(await dumpTraffic(reread.store)).toEqual(expected);
    }
  });

  it('holds the checkpoint back until the unit commits: a crash before replays every event', async () => {
    const eventStore = createInMemoryEventStore();
    await writeTraffic(eventStore);
    const expected = await dumpTraffic(
      (await foldAll(eventStore, { batchEventCountMax: 1, cachedDocumentCountMax: 0 })).store,
    );
    const head = await eventStore.headPosition();
    // Sees what the live runner folded, so the test waits for the fold, not for a time.
    let seen: bigint | null = null;
    const witness: Projection = {
      name: 'witness',
      collections: [],
      commitDeferrable: true,
      apply: async (event) => {
        seen = event.position;
      },
    };
    const { store, commits } = recording(createSqliteReadModelStore({ path: ':memory:' }));
    const live = await generationOneRunner(
      eventStore,
      store,
      { batchEventCountMax: 7, cachedDocumentCountMax: 3, unitMsMax: 60_000, nowMs: () => 0 },
      [...READ_MODELS, witness],
    );
    const following = live.follow();
    await eventuallyTrue(() => seen === head, { timeoutMs: 10_000, what: 'the log folded' });
    // Folded in memory, nothing committed: a crash now leaves the checkpoint where it was.
    expect(commits).toHaveLength(0);
    expect(await store.readCheckpoint(checkpointOf(1))).toBeNull();
    expect(live.position()).toBeNull();
    // The restarted runner replays from there and ends with exact documents.
    const restarted = await generationOneRunner(eventStore, store, {
      batchEventCountMax: 7,
      cachedDocumentCountMax: 3,
    });
    await restarted.catchUp({ untilPosition: null, untilTime: null }, () => undefined);
    expect(await dumpTraffic(store)).toEqual(expected);
    // A reader waiting for the head makes the held unit commit without waiting out its interval.
    const before = commits.length;
    live.requestCommit(head ?? 0n, 10_000);
    await eventuallyTrue(() => live.position() === head, {
      timeoutMs: 10_000,
      what: 'the requested commit',
    });
    expect(commits).toHaveLength(before + 1);
    expect(await dumpTraffic(store)).toEqual(expected);
    await live.stop();
    await following;
  });

  it('folds onto a version-4 document (view and state nested) and shows the same view', async () => {
    const eventStore = createInMemoryEventStore();
    await writeTraffic(eventStore);
    const { store } = await foldAll(eventStore, {
      batchEventCountMax: 5_000,
      cachedDocumentCountMax: 0,
    });
    const flat = await dumpTraffic(store);
    const first = flat[TRAFFIC]?.[0];
    expect(first).toBeDefined();
    if (first === undefined) return;
    const state = trafficStateOf(first);
    const view = trafficViewOf(first);
    const nested = asJson({
      view,
      state,
      positionKey: first['positionKey'],
      userId: first['userId'],
    });
    expect(trafficStateOf(nested)).toEqual(state);
    expect(trafficViewOf(nested)).toEqual(view);
    expect(view).toMatchObject({ userId: first['userId'], uploadBytes: state.uploadBytes });
  });

  it('commits a deferred unit at the end of its interval when no event follows', async () => {
    const eventStore = createInMemoryEventStore();
    await writeTraffic(eventStore);
    const head = await eventStore.headPosition();
    const { store, commits } = recording(createSqliteReadModelStore({ path: ':memory:' }));
    // A clock behind the timers' (as Date.now can be by a millisecond): the timer fires before
    // the clock shows the interval over and has to be set again.
    const live = await generationOneRunner(eventStore, store, {
      batchEventCountMax: 7,
      cachedDocumentCountMax: 3,
      unitMsMax: 50,
      nowMs: () => Date.now() - 20,
    });
    const following = live.follow();
    await eventuallyTrue(() => live.position() === head, {
      timeoutMs: 10_000,
      what: 'the unit committed by its timer',
    });
    expect(commits.length).toBeGreaterThan(0);
    await live.stop();
    await following;
  });
});
