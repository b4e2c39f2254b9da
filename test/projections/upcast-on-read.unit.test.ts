import { randomUUID } from 'node:crypto';
import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { createActorRuntime } from '../../domain/actors/actor-runtime';
import { parseStored } from '../../domain/aggregate';
import { EMPTY_CHAIN, sealEvents } from '../../domain/event-chain';
import type { EventStore, JsonObject } from '../../domain/ports/event-store.port';
import { NO_RISK_RULES } from '../../domain/risk/risk-rules';
import {
  riskAttemptsAggregate,
  riskAttemptsIdOf,
  type RecordedAttempt,
} from '../../domain/risk/risk-attempts';
import { trafficAggregate, trafficShardOf } from '../../domain/traffic/traffic.decider';
import { createRiskGuard } from '../../api/risk-guard';
import { startRiskJournal } from '../../api/risk-journal';
import { collectionIn } from '../../projections/read-models';
import { TRAFFIC, trafficViewOf } from '../../projections/traffic.projection';
import { testContext, testLedgerLimits, testLimits } from '../support/ledger-harness';
import { createTrafficWriter, executeTrafficCommand } from '../../domain/traffic/traffic-writer';
import { generationOneRunner } from './support/generation-runner';

/**
 * Old events are never rewritten: they stay in the log in the schema version they were written
 * in and are upcast each time they are read. Here an event of an older version is stored the way
 * that version wrote it, beside one written now, and both are read back through the paths the
 * service reads them by: the read-model runner (traffic shards) and the risk journal's replay at
 * start (risk attempts).
 */
const NOW = '2026-12-06T10:00:00.000Z';
const NOW_MS = Date.parse(NOW);

const metadata = (schemaVersion: number) => ({
  correlationId: 'old-release',
  causationId: null,
  actor: { clientId: 'system:old', role: 'system', ip: null },
  idempotencyKey: null,
  occurredAt: NOW,
  schemaVersion,
});

/** Appends one event as an older release wrote it: its data and schema version as given. */
const storeAsWritten = async (
  store: EventStore,
  stream: string,
  event: { type: string; data: JsonObject; schemaVersion: number },
): Promise<void> => {
  const sealed = sealEvents(stream, EMPTY_CHAIN, [
    {
      id: randomUUID(),
      type: event.type,
      data: event.data,
      metadata: metadata(event.schemaVersion),
    },
  ]);
  const appended = await store.append(stream, sealed.events, { kind: 'no_stream' });
  expect(appended.ok).toBe(true);
};

describe('events of an older schema version, read upcast', () => {
  it('traffic shard: a version-1 report (usages as objects) is folded into the read model', async () => {
    const eventStore = createInMemoryEventStore();
    const userId = 'upcast-reader';
    const stream = `${trafficAggregate.category}-${trafficShardOf(userId)}`;
    await storeAsWritten(eventStore, stream, {
      type: 'UsageReported',
      schemaVersion: 1,
      data: {
        reportId: 'node-1:v1',
        nodeId: 'node-1',
        usages: [{ userId, uploadBytes: 100, downloadBytes: 20 }],
        refused: [],
        recordedAt: NOW,
      },
    });
    // A report written now, in the current version, on top of the old one.
    const writer = createTrafficWriter({
      store: eventStore,
      snapshots: null,
      limits: testLedgerLimits,
      onEvent: () => undefined,
    });
    const usages = [{ userId, uploadBytes: 1, downloadBytes: 2 }];
    const command = {
      type: 'RecordUsage' as const,
      data: { reportId: 'node-1:now', nodeId: 'node-1', usages, now: NOW },
    };
    const outcome = await executeTrafficCommand(
      writer,
      { shardId: trafficShardOf(userId), command, eventIdSeed: null },
      testContext({ now: NOW }),
    );
    expect(outcome.ok).toBe(true);
    const stored = await eventStore.readAll({ afterPosition: null, eventCountMax: 10 });
    const [first, ...later] = stored.map((event) => event.metadata.schemaVersion);
    expect(first).toBe(1);
    expect(later.length).toBeGreaterThan(0);
    for (const version of later) expect(version).toBe(trafficAggregate.eventCodec.schemaVersion);
    expect(trafficAggregate.eventCodec.schemaVersion).toBeGreaterThan(1);

    const readModels = createSqliteReadModelStore({ database: openSqliteDatabase(':memory:') });
    const runner = await generationOneRunner(eventStore, readModels, {
      batchEventCountMax: 10,
      cachedDocumentCountMax: 10,
    });
    await runner.catchUp({ untilPosition: null, untilTime: null }, () => undefined);
    const document = await readModels.get(collectionIn(TRAFFIC, 1), userId);
    expect(document === null ? null : trafficViewOf(document)).toMatchObject({
      userId,
      uploadBytes: 101,
      downloadBytes: 22,
    });
  });

  it('risk attempts: a version-1 flush (attempts as objects) is replayed at start', async () => {
    const eventStore = createInMemoryEventStore();
    const stream = `${riskAttemptsAggregate.category}-${riskAttemptsIdOf(NOW_MS)}`;
    const old: RecordedAttempt = {
      buyerId: 'b-old',
      ip: '203.0.113.1',
      deviceId: null,
      atMs: NOW_MS - 2000,
    };
    await storeAsWritten(eventStore, stream, {
      type: 'RiskAttemptsRecorded',
      schemaVersion: 1,
      data: { attempts: [{ ...old }] },
    });
    // A flush written now, through the actor runtime, in the current version.
    const recent: RecordedAttempt = {
      buyerId: 'b-new',
      ip: '203.0.113.2',
      deviceId: 'd-1',
      atMs: NOW_MS - 1000,
    };
    const runtime = createActorRuntime(eventStore, testLimits);
    const flushed = await runtime.execute(
      riskAttemptsAggregate,
      riskAttemptsIdOf(NOW_MS),
      { type: 'RecordRiskAttempts', data: { attempts: [recent] } },
      testContext({ now: NOW }),
    );
    expect(flushed.ok).toBe(true);
    const [v1, current] = await eventStore.readAll({ afterPosition: null, eventCountMax: 10 });
    expect(v1?.metadata.schemaVersion).toBe(1);
    expect(current?.metadata.schemaVersion).toBe(2);
    expect(current?.data).toEqual({ attempts: [['b-new', '203.0.113.2', 'd-1', NOW_MS - 1000]] });
    if (v1 === undefined) throw new Error('fixture');
    expect(parseStored(riskAttemptsAggregate, v1).data.attempts).toEqual([old]);

    const replayed: RecordedAttempt[] = [];
    const guard = createRiskGuard({
      rules: NO_RISK_RULES,
      nowMs: () => NOW_MS,
      limits: { keyCountMax: 100 },
    });
    const journal = await startRiskJournal({
      store: eventStore,
      runtime,
      guard: { ...guard, replay: (attempt) => replayed.push(attempt) },
      nowMs: () => NOW_MS,
      limits: { flushMs: 60_000, lookBackMs: 3_600_000, attemptsPerEventMax: 100 },
      onError: (error) => {
        throw error;
      },
    });
    await journal.stop();
    expect(journal.replayedCount).toBe(2);
    expect(replayed).toEqual([old, recent]);
  });

  it('a malformed stored event is refused naming its stream, revision, type, version and field', async () => {
    const eventStore = createInMemoryEventStore();
    const stream = `${riskAttemptsAggregate.category}-${riskAttemptsIdOf(NOW_MS)}`;
    await storeAsWritten(eventStore, stream, {
      type: 'RiskAttemptsRecorded',
      schemaVersion: 1,
      data: { attempts: [{ buyerId: 'b', ip: '203.0.113.1', deviceId: null, atMs: 'soon' }] },
    });
    const [event] = await eventStore.readAll({ afterPosition: null, eventCountMax: 1 });
    if (event === undefined) throw new Error('fixture');
    expect(() => parseStored(riskAttemptsAggregate, event)).toThrow(
      `malformed event at ${stream} revision 0 (RiskAttemptsRecorded schemaVersion 1): atMs: not a safe integer ≥ 0`,
    );
  });
});
