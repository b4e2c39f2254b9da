import { createInMemoryEventStore } from '../../../adapters/eventstore/in-memory.event-store';
import { createInMemorySnapshotStore } from '../../../adapters/snapshots/in-memory.snapshot-store';
import type { EventStore, JsonValue, RecordedEvent } from '../../../domain/ports/event-store.port';
import type { SnapshotStore } from '../../../domain/ports/snapshot-store.port';
import { trafficSnapshotCodec } from '../../../domain/traffic/traffic.snapshot';
import { auditSnapshotsOf } from '../../../domain/audit/snapshot-audit';
import {
  trafficShardFold,
  trafficShardOf,
  trafficUserOf,
  type TrafficCommand,
  type UsageRecord,
} from '../../../domain/traffic/traffic.decider';
import {
  createTrafficWriter,
  executeTrafficCommand,
  type TrafficRequest,
  type TrafficWriter,
} from '../../../domain/traffic/traffic-writer';
import { testContext, testLedgerLimits, trafficWriterOver } from '../../support/ledger-harness';
import { grant, now, use } from './traffic.fixtures';

/** A report as the route makes it: one RecordUsage per shard it touches. */
const reportRequest = (
  nodeId: string,
  reportId: string,
  records: readonly UsageRecord[],
  key: string | null = null,
): TrafficRequest => {
  const byShard = new Map<string, UsageRecord[]>();
  for (const record of records) {
    const shardId = trafficShardOf(record.userId);
    byShard.set(shardId, [...(byShard.get(shardId) ?? []), record]);
  }
  const scoped = `${nodeId}:${reportId}`;
  return {
    commands: [...byShard].map(([shardId, usages]) => ({
      shardId,
      command: { type: 'RecordUsage', data: { reportId: scoped, nodeId, usages, now } },
      eventIdSeed: `${scoped}:${shardId}`,
    })),
    context: testContext(),
    idempotency:
      key === null
        ? null
        : {
            scope: `${nodeId} POST /v1/traffic/reports`,
            key,
            fingerprint: `fp-${reportId}`,
            createdAtMs: 0,
            respond: () => ({ status: 200, body: { reportId }, headers: {} }),
          },
  };
};

const onShard = (userId: string, command: TrafficCommand) => ({
  shardId: trafficShardOf(userId),
  command,
  eventIdSeed: null,
});

const usedBytes = async (writer: TrafficWriter, userId: string): Promise<number> => {
  const user = trafficUserOf((await writer.shard(trafficShardOf(userId))).state, userId);
  return user.uploadBytes + user.downloadBytes;
};

const allEvents = (store: EventStore): Promise<readonly RecordedEvent[]> =>
  store.readAll({ afterPosition: null, eventCountMax: 1_000_000 });

/** Counts the store's multi-stream appends: the durable rounds the writer asks for. */
const countingAppends = (store: EventStore): { store: EventStore; appendCount: () => number } => {
  let appendCount = 0;
  const counted: EventStore = Object.create(store) as EventStore;
  counted.appendMulti = (appends, records) => {
    appendCount += 1;
    return store.appendMulti(appends, records);
  };
  return { store: counted, appendCount: () => appendCount };
};

const USERS = Array.from({ length: 40 }, (_, index) => `user-${index}`);

describe('the traffic writer', () => {
  it('sums concurrent reports from many nodes exactly and flags each crossing exactly once', async () => {
    const store = createInMemoryEventStore();
    const writer = trafficWriterOver(store);
    for (const userId of USERS)
      await executeTrafficCommand(
        writer,
        onShard(userId, grant(userId, `plan-${userId}`, 1000)),
        testContext(),
      );
    // 8 nodes × 10 reports, each naming every user once: 80 × 30 bytes = 2,400 per user.
    const reports = Array.from({ length: 80 }, (_, index) =>
      writer.execute(
        reportRequest(
          `node-${index % 8}`,
          `r-${index}`,
          USERS.map((userId) => ({ userId, uploadBytes: 10, downloadBytes: 20 })),
        ),
      ),
    );
    const replies = await Promise.all(reports);
    expect(replies.every((reply) => reply.kind === 'decided')).toBe(true);
    for (const userId of USERS) expect(await usedBytes(writer, userId)).toBe(2400);
    const crossings = (await allEvents(store))
      .filter((event) => event.type === 'QuotasExceeded')
      .flatMap((event) => (event.data['users'] as { userId: string }[]).map((u) => u.userId));
    expect(crossings.sort()).toEqual([...USERS].sort());
  });

  it('decides a burst of reports into fewer appends than reports, each report whole', async () => {
    const counted = countingAppends(createInMemoryEventStore());
    const writer = trafficWriterOver(counted.store);
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        writer.execute(
          reportRequest(
            'node-1',
            `r-${index}`,
            USERS.map((userId) => ({ userId, uploadBytes: 1, downloadBytes: 0 })),
            `key-${index}`,
          ),
        ),
      ),
    );
    expect(counted.appendCount()).toBeLessThan(30);
    // Each report's key is stored by the same commit as its usage: at the reply's position.
    for (const [index, reply] of replies.entries()) {
      expect(reply.kind).toBe('decided');
      const record = await counted.store.readIdempotencyRecord(
        'node-1 POST /v1/traffic/reports',
        `key-${index}`,
      );
      expect(record?.position).toBe(reply.kind === 'decided' ? reply.position : null);
    }
    for (const userId of USERS) expect(await usedBytes(writer, userId)).toBe(30);
  });

  it('counts a resent report once, and replays a key another writer stored first', async () => {
    const store = createInMemoryEventStore();
    const first = trafficWriterOver(store);
    const records = USERS.map((userId) => ({ userId, uploadBytes: 5, downloadBytes: 5 }));
    await first.execute(reportRequest('node-1', 'r-1', records, 'key-1'));
    const resent = await first.execute(reportRequest('node-1', 'r-1', records, 'key-2'));
    expect(resent.kind).toBe('decided');
    for (const userId of USERS) expect(await usedBytes(first, userId)).toBe(10);
    const second = trafficWriterOver(store);
    const replay = await second.execute(reportRequest('node-1', 'r-1', records, 'key-1'));
    expect(replay.kind).toBe('replay');
    for (const userId of USERS) expect(await usedBytes(second, userId)).toBe(10);
  });

  it('loses no report when two writers (two instances) write the same shards', async () => {
    const store = createInMemoryEventStore();
    const writers = [trafficWriterOver(store), trafficWriterOver(store)];
    await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        writers[index % 2]?.execute(
          reportRequest(
            `node-${index}`,
            'r',
            USERS.map((userId) => ({ userId, uploadBytes: 1, downloadBytes: 1 })),
          ),
        ),
      ),
    );
    const fresh = trafficWriterOver(store);
    for (const userId of USERS) expect(await usedBytes(fresh, userId)).toBe(80);
  });
});

describe('the traffic writer after a failed append', () => {
  it('keeps its shards as they were: the next report counts from the stored totals', async () => {
    const store = createInMemoryEventStore();
    let failing = false;
    const flaky: EventStore = Object.create(store) as EventStore;
    flaky.appendMulti = (appends, records) =>
      failing ? Promise.reject(new Error('disk gone')) : store.appendMulti(appends, records);
    const writer = trafficWriterOver(flaky);
    const records = USERS.map((userId) => ({ userId, uploadBytes: 3, downloadBytes: 4 }));
    await writer.execute(reportRequest('node-1', 'r-1', records));
    failing = true;
    await expect(writer.execute(reportRequest('node-1', 'r-2', records))).rejects.toThrow(
      'disk gone',
    );
    failing = false;
    for (const userId of USERS) expect(await usedBytes(writer, userId)).toBe(7);
    await writer.execute(reportRequest('node-1', 'r-2', records));
    for (const userId of USERS) expect(await usedBytes(writer, userId)).toBe(14);
    expect(await usedBytes(trafficWriterOver(store), USERS[0] ?? '')).toBe(14);
  });
});

describe('the traffic writer with snapshots', () => {
  const EVERY = 3;
  const start = (store: EventStore, snapshotStore: SnapshotStore) => {
    const rejected: unknown[] = [];
    const writer = createTrafficWriter({
      store,
      snapshots: { store: snapshotStore, everyEventCount: EVERY },
      limits: testLedgerLimits,
      onEvent: (name, fields) => {
        if (name === 'snapshot_rejected') rejected.push(fields);
      },
    });
    return { writer, rejected };
  };
  const userId = USERS[0] as string;
  const stream = `trafficshard-${trafficShardOf(userId)}`;
  const reportFive = async (writer: TrafficWriter, from: number) => {
    for (let index = from; index < from + 5; index += 1)
      await writer.execute(reportRequest('n1', `r-${index}`, [use(userId, 10)]));
  };

  it('saves version 4, and resumes from a version 3 snapshot already on disk', async () => {
    const store = createInMemoryEventStore();
    const snapshotStore = createInMemorySnapshotStore();
    const first = start(store, snapshotStore);
    await first.writer.execute({
      commands: [onShard(userId, grant(userId, 'g-1', 1_000))],
      context: testContext(),
      idempotency: null,
    });
    await reportFive(first.writer, 0);
    const saved = await snapshotStore.load(stream);
    expect(saved).toMatchObject({ schemaVersion: 4, revision: 5 });
    if (saved === null) throw new Error('fixture: no snapshot saved');
    // The same state as version 3 wrote it (one object per user and per report).
    const state = trafficSnapshotCodec.decode(saved.state);
    // Marked (7 bytes more than the log says) to tell its read from a fold of the stream.
    const version3 = {
      users: [...state.users].map(([id, user]) => ({
        userId: id,
        ...user,
        downloadBytes: user.downloadBytes + 7,
      })),
      recentReports: [...state.recentReports].map(([reportId, refused]) => ({ reportId, refused })),
    };
    await snapshotStore.save({
      ...saved,
      schemaVersion: 3,
      state: JSON.parse(JSON.stringify(version3)) as JsonValue,
    });
    const resumed = start(store, snapshotStore);
    expect(await usedBytes(resumed.writer, userId)).toBe(50 + 7);
    expect(resumed.rejected).toEqual([]);
    await reportFive(resumed.writer, 5);
    expect(await usedBytes(resumed.writer, userId)).toBe(100 + 7);
    await expect(snapshotStore.load(stream)).resolves.toMatchObject({ schemaVersion: 4 });
  });

  it('audits a version 3 snapshot against the log: the same state matches, another does not', async () => {
    const store = createInMemoryEventStore();
    const snapshotStore = createInMemorySnapshotStore();
    await reportFive(start(store, snapshotStore).writer, 0);
    const saved = await snapshotStore.load(stream);
    if (saved === null) throw new Error('fixture: no snapshot saved');
    const state = trafficSnapshotCodec.decode(saved.state);
    const asVersion3 = (extraBytes: number): JsonValue =>
      JSON.parse(
        JSON.stringify({
          users: [...state.users].map(([id, user]) => ({
            userId: id,
            ...user,
            uploadBytes: user.uploadBytes + extraBytes,
          })),
          recentReports: [...state.recentReports].map(([reportId, refused]) => ({
            reportId,
            refused,
          })),
        }),
      ) as JsonValue;
    const audit = async (extraBytes: number) => {
      await snapshotStore.save({ ...saved, schemaVersion: 3, state: asVersion3(extraBytes) });
      const report = { checkedCount: 0, mismatches: [], unusable: [] };
      const sources = { store, snapshots: snapshotStore, pageEventCountMax: 100 };
      await auditSnapshotsOf(trafficShardFold, sources, report);
      return report;
    };
    expect(await audit(0)).toEqual({ checkedCount: 1, mismatches: [], unusable: [] });
    expect((await audit(1)).mismatches).toEqual([
      expect.objectContaining({ stream, revision: saved.revision }),
    ]);
  });
});
