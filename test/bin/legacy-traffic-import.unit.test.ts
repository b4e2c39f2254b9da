import { PassThrough } from 'node:stream';
import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import {
  importLegacyTraffic,
  LEGACY_TRAFFIC_IMPORT_MARKER_STREAM,
} from '../../bin/legacy-traffic-import';
import { createLogger } from '../../bin/logger';
import { EMPTY_CHAIN, sealEvents } from '../../domain/event-chain';
import type { EventStore, JsonObject } from '../../domain/ports/event-store.port';
import {
  trafficShardOf,
  trafficUserOf,
  initialTrafficUserState,
  type TrafficCounts,
  type TrafficUserState,
} from '../../domain/traffic/traffic.decider';
import type { TrafficWriter } from '../../domain/traffic/traffic-writer';
import { testContext, trafficWriterOver } from '../support/ledger-harness';

const logger = createLogger('error', { stream: new PassThrough() });
const now = '2026-01-01T00:00:00.000Z';

/** Writes a stream of the legacy layout, as the per-user traffic aggregate wrote it. */
const writeLegacyStream = async (
  store: EventStore,
  userId: string,
  events: readonly { type: string; data: JsonObject }[],
): Promise<void> => {
  const stream = `traffic-${userId}`;
  const { events: sealed } = sealEvents(
    stream,
    EMPTY_CHAIN,
    events.map((event, index) => ({
      id: `00000000-0000-4000-8000-${String(index).padStart(6, '0')}${userId.length.toString().padStart(6, '0')}`,
      ...event,
      metadata: { ...testContext(), occurredAt: now, schemaVersion: 1 },
    })),
  );
  const appended = await store.append(stream, sealed, { kind: 'no_stream' });
  expect(appended.ok).toBe(true);
};

const granted = (grantId: string, quotaBytes: number) => ({
  type: 'QuotaGranted',
  data: { grantId, quotaBytes, reason: 'plan', grantedAt: now },
});
const used = (reportId: string, uploadBytes: number, downloadBytes: number) => ({
  type: 'UsageRecorded',
  data: { reportId, nodeId: 'node-1', uploadBytes, downloadBytes, recordedAt: now },
});
const crossed = (usedBytes: number, quotaBytes: number) => ({
  type: 'QuotaExceeded',
  data: { usedBytes, quotaBytes, exceededAt: now },
});
const wasReset = (resetId: string, quotaBytes: number) => ({
  type: 'QuotaReset',
  data: { resetId, quotaBytes, resetAt: now },
});

/** Three users of the old layout: within quota, exceeded, and reset after exceeding. */
const legacyUsers: Record<string, TrafficCounts> = {
  within: {
    quotaBytes: 1000,
    uploadBytes: 100,
    downloadBytes: 200,
    exceeded: false,
    grantIds: ['g-1'],
    resetIds: [],
  },
  over: {
    quotaBytes: 100,
    uploadBytes: 150,
    downloadBytes: 0,
    exceeded: true,
    grantIds: ['g-2'],
    resetIds: [],
  },
  renewed: {
    quotaBytes: 500,
    uploadBytes: 5,
    downloadBytes: 0,
    exceeded: false,
    grantIds: ['g-3', 'g-4'],
    resetIds: ['p-2'],
  },
};

const writeLegacyUsers = async (store: EventStore): Promise<void> => {
  await writeLegacyStream(store, 'within', [granted('g-1', 1000), used('u-1', 100, 200)]);
  await writeLegacyStream(store, 'over', [
    granted('g-2', 100),
    used('u-2', 150, 0),
    crossed(150, 100),
  ]);
  await writeLegacyStream(store, 'renewed', [
    granted('g-3', 10),
    used('u-3', 20, 0),
    crossed(20, 10),
    wasReset('p-2', 400),
    granted('g-4', 100),
    used('u-4', 5, 0),
  ]);
};

const userInShard = async (traffic: TrafficWriter, userId: string): Promise<TrafficUserState> =>
  trafficUserOf((await traffic.shard(trafficShardOf(userId))).state, userId);

describe('importLegacyTraffic', () => {
  it('does nothing on an empty log, and writes no marker', async () => {
    const store = createInMemoryEventStore();
    const traffic = trafficWriterOver(store);
    await expect(importLegacyTraffic({ store, traffic, logger, nowMs: Date.now })).resolves.toEqual(
      { kind: 'empty_log' },
    );
    expect(await store.headPosition()).toBeNull();
  });

  it('carries every legacy user into its shard once, and later starts scan nothing', async () => {
    const store = createInMemoryEventStore();
    await writeLegacyUsers(store);
    const traffic = trafficWriterOver(store);
    const result = await importLegacyTraffic({ store, traffic, logger, nowMs: Date.now });
    expect(result).toEqual({ kind: 'imported', legacyStreamCount: 3, importedUserCount: 3 });
    for (const [userId, expected] of Object.entries(legacyUsers)) {
      expect(await userInShard(traffic, userId)).toEqual({
        ...initialTrafficUserState,
        ...expected,
      });
    }
    const marker = await store.readStream(LEGACY_TRAFFIC_IMPORT_MARKER_STREAM, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(marker.map((event) => event.data['legacyStreamCount'])).toEqual([3]);
    const head = await store.headPosition();
    const again = await importLegacyTraffic({ store, traffic, logger, nowMs: Date.now });
    expect(again).toEqual({ kind: 'already_done' });
    expect(await store.headPosition()).toBe(head);
  });

  it('after a crash before the marker, a second run imports nobody twice', async () => {
    const store = createInMemoryEventStore();
    await writeLegacyUsers(store);
    // The first run's marker append fails, as if the process died just before it.
    const crashing: EventStore = {
      ...store,
      append: (stream, events, expected) =>
        stream === LEGACY_TRAFFIC_IMPORT_MARKER_STREAM
          ? Promise.reject(new Error('killed'))
          : store.append(stream, events, expected),
    };
    const first = trafficWriterOver(crashing);
    await expect(
      importLegacyTraffic({ store: crashing, traffic: first, logger, nowMs: Date.now }),
    ).rejects.toThrow('killed');
    const restarted = trafficWriterOver(store);
    const second = await importLegacyTraffic({
      store,
      traffic: restarted,
      logger,
      nowMs: Date.now,
    });
    expect(second).toEqual({ kind: 'imported', legacyStreamCount: 3, importedUserCount: 0 });
    for (const [userId, expected] of Object.entries(legacyUsers)) {
      expect(await userInShard(restarted, userId)).toEqual({
        ...initialTrafficUserState,
        ...expected,
      });
    }
  });

  it('refuses a damaged legacy stream instead of importing a wrong state, and writes no marker', async () => {
    const store = createInMemoryEventStore();
    await writeLegacyStream(store, 'twice', [granted('g-1', 10), granted('g-1', 10)]);
    const traffic = trafficWriterOver(store);
    await expect(importLegacyTraffic({ store, traffic, logger, nowMs: Date.now })).rejects.toThrow(
      'g-1 granted twice',
    );
    const marker = await store.readStream(LEGACY_TRAFFIC_IMPORT_MARKER_STREAM, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 1,
    });
    expect(marker).toEqual([]);
  });
});
