import { randomUUID } from 'node:crypto';
import { createInMemoryEventStore } from '../../../adapters/eventstore/in-memory.event-store';
import { parseStored } from '../../../domain/aggregate';
import { AssertionError } from '../../../domain/assert';
import { EMPTY_CHAIN, sealEvents } from '../../../domain/event-chain';
import type { JsonObject } from '../../../domain/ports/event-store.port';
import {
  trafficAggregate,
  trafficShardOf,
  trafficUserOf,
} from '../../../domain/traffic/traffic.decider';
import { createTrafficWriter, executeTrafficCommand } from '../../../domain/traffic/traffic-writer';
import { testContext, testLedgerLimits } from '../../support/ledger-harness';
import { now } from './traffic.fixtures';

const USER = 'upcast-user';
const SHARD = trafficShardOf(USER);
const STREAM = `trafficshard-${SHARD}`;

/** A UsageReported as version 1 wrote it: usages as objects. */
const versionOneReport = {
  reportId: 'node-1:old',
  nodeId: 'node-1',
  usages: [{ userId: USER, uploadBytes: 100, downloadBytes: 20 }],
  refused: [],
  recordedAt: now,
};

const metadata = (schemaVersion: number) => ({
  correlationId: 'c',
  causationId: null,
  actor: { clientId: 'node-1', role: 'node', ip: '127.0.0.1' },
  idempotencyKey: null,
  occurredAt: now,
  schemaVersion,
});

describe('the traffic event codec', () => {
  it('reads a version-1 report upcast, beside the version-2 reports written now', async () => {
    const store = createInMemoryEventStore();
    const sealed = sealEvents(STREAM, EMPTY_CHAIN, [
      { id: randomUUID(), type: 'UsageReported', data: versionOneReport, metadata: metadata(1) },
    ]);
    await store.append(STREAM, sealed.events, { kind: 'no_stream' });

    const writer = createTrafficWriter({
      store,
      snapshots: null,
      limits: testLedgerLimits,
      onEvent: () => undefined,
    });
    const usages = [{ userId: USER, uploadBytes: 1, downloadBytes: 2 }];
    const command = {
      type: 'RecordUsage' as const,
      data: { reportId: 'node-1:new', nodeId: 'node-1', usages, now },
    };
    const outcome = await executeTrafficCommand(
      writer,
      { shardId: SHARD, command, eventIdSeed: null },
      testContext(),
    );
    expect(outcome.ok).toBe(true);
    expect(trafficUserOf((await writer.shard(SHARD)).state, USER)).toMatchObject({
      uploadBytes: 101,
      downloadBytes: 22,
    });

    const [old, written] = await store.readStream(STREAM, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(written?.metadata.schemaVersion).toBe(2);
    expect(written?.data['usages']).toEqual([[USER, 1, 2]]);
    if (old === undefined || written === undefined) throw new Error('fixture');
    expect(parseStored(trafficAggregate, old)).toEqual({
      type: 'UsageReported',
      data: versionOneReport,
    });
    expect(parseStored(trafficAggregate, written).data).toMatchObject({ usages });
  });

  it('refuses a stored event it cannot read, naming the field', () => {
    const read =
      (data: JsonObject, schemaVersion = 2, type = 'UsageReported') =>
      () =>
        parseStored(trafficAggregate, {
          type,
          data: { ...versionOneReport, ...data },
          metadata: { schemaVersion },
        });
    expect(read({ usages: [[USER, -1, 0]] })).toThrow(/usage upload/);
    expect(
      read({
        usages: [
          [USER, 1, 2],
          [USER, 1, 1.5],
        ],
      }),
    ).toThrow(/usage download \(record 1\)/);
    expect(read({ usages: [[7, 1, 2]] })).toThrow(/usage userId/);
    expect(read({ usages: [[USER, 1]] })).toThrow(/not \[userId, upload, download\]/);
    expect(read({ usages: [{ userId: USER, uploadBytes: 1, downloadBytes: 2 }] })).toThrow(
      /not \[userId, upload, download\]/,
    );
    expect(read({ usages: [{ userId: USER, uploadBytes: 1 }] }, 1)).toThrow(/downloadBytes/);
    expect(read({ reportId: 7 })).toThrow(/reportId/);
    expect(read({}, 3)).toThrow(/schemaVersion/);
    expect(read({}, 2, 'UsageDeleted')).toThrow(AssertionError);
  });
});
