import type { Logger } from 'winston';
import type { CommandContext } from '../domain/actors/actor-runtime';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.port';
import { appendUpgradeMarker } from './upgrade-marker';
import { trafficShardOf } from '../domain/traffic/traffic.decider';
import { executeTrafficCommand, type TrafficWriter } from '../domain/traffic/traffic-writer';
import { foldLegacyTrafficStream, LEGACY_TRAFFIC_CATEGORY } from '../domain/traffic/traffic.legacy';

/**
 * Carries users of the legacy layout (one stream `traffic-<userId>` each) into their shards,
 * once per event store, before the service serves anything that could touch a shard.
 *
 * The first start that finds a non-empty log without the marker stream scans the whole log for
 * legacy streams, imports each one's final state (ImportUser, whose event ids derive from the
 * legacy stream, so a crash halfway and a second run import nobody twice), then appends the
 * marker. Later starts read the marker and scan nothing. The legacy streams stay in the log.
 */
export const LEGACY_TRAFFIC_IMPORT_MARKER_STREAM = 'trafficimport-legacy';

const PAGE_EVENT_COUNT_MAX = 1000;
/** Legacy streams read and imported at once; commands to one shard are appended in batches. */
const CONCURRENT_IMPORT_COUNT = 64;

const IMPORT_ACTOR = { clientId: 'system:traffic-import', role: 'system', ip: null };

type LegacyTrafficImportResult =
  | { kind: 'already_done' }
  | { kind: 'empty_log' }
  | { kind: 'imported'; legacyStreamCount: number; importedUserCount: number };

export const importLegacyTraffic = async (deps: {
  store: EventStore;
  /** The traffic writer, before anything else can reach it: it decides and appends the imports. */
  traffic: TrafficWriter;
  logger: Logger;
  nowMs: () => number;
}): Promise<LegacyTrafficImportResult> => {
  const { store, logger } = deps;
  const marker = await readPage(store, LEGACY_TRAFFIC_IMPORT_MARKER_STREAM, 0, 1);
  if (marker.length > 0) return { kind: 'already_done' };
  const headPosition = await store.headPosition();
  if (headPosition === null) return { kind: 'empty_log' };
  logger.info('legacy_traffic_scan_started', { headPosition: headPosition.toString() });
  const legacyStreams = await legacyStreamsUpTo(store, headPosition);
  const now = new Date(deps.nowMs()).toISOString();
  const pending = [...legacyStreams];
  let importedUserCount = 0;
  const importNext = async (): Promise<void> => {
    for (let stream = pending.pop(); stream !== undefined; stream = pending.pop()) {
      if (await importStream(deps, stream, now)) importedUserCount += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_IMPORT_COUNT }, importNext));
  const legacyStreamCount = legacyStreams.size;
  await appendMarker(store, { headPosition, legacyStreamCount, importedUserCount, now });
  logger.info('legacy_traffic_imported', { legacyStreamCount, importedUserCount });
  return { kind: 'imported', legacyStreamCount, importedUserCount };
};

const readPage = (
  store: EventStore,
  stream: string,
  fromRevision: number,
  eventCountMax: number,
): Promise<readonly RecordedEvent[]> =>
  store.readStream(stream, { fromRevision, direction: 'forwards', eventCountMax });

const legacyStreamsUpTo = async (store: EventStore, headPosition: bigint): Promise<Set<string>> => {
  const prefix = `${LEGACY_TRAFFIC_CATEGORY}-`;
  const streams = new Set<string>();
  let afterPosition: bigint | null = null;
  while (afterPosition === null || afterPosition < headPosition) {
    const page = await store.readAll({ afterPosition, eventCountMax: PAGE_EVENT_COUNT_MAX });
    for (const event of page) if (event.stream.startsWith(prefix)) streams.add(event.stream);
    const last = page[page.length - 1];
    if (last === undefined) break;
    afterPosition = last.position;
  }
  return streams;
};

/** True when this run imported the user; false when its shard already had it. */
const importStream = async (
  deps: { store: EventStore; traffic: TrafficWriter },
  stream: string,
  now: string,
): Promise<boolean> => {
  const events: RecordedEvent[] = [];
  for (;;) {
    const page = await readPage(deps.store, stream, events.length, PAGE_EVENT_COUNT_MAX);
    events.push(...page);
    if (page.length < PAGE_EVENT_COUNT_MAX) break;
  }
  const userId = stream.slice(LEGACY_TRAFFIC_CATEGORY.length + 1);
  const context: CommandContext = {
    correlationId: `traffic-import:${stream}`,
    causationId: events[events.length - 1]?.id ?? null,
    actor: IMPORT_ACTOR,
    idempotencyKey: null,
    now,
    eventIdSeed: `traffic-import:${stream}`,
  };
  const command = {
    type: 'ImportUser' as const,
    data: {
      userId,
      user: foldLegacyTrafficStream(userId, events),
      sourceStream: stream,
      sourceRevision: events.length - 1,
      now,
    },
  };
  const shardId = trafficShardOf(userId);
  const outcome = await executeTrafficCommand(
    deps.traffic,
    { shardId, command, eventIdSeed: context.eventIdSeed },
    context,
  );
  if (!outcome.ok) throw new Error(`${stream}: import refused (${outcome.rejection})`);
  return outcome.eventCount > 0;
};

const appendMarker = (
  store: EventStore,
  facts: {
    headPosition: bigint;
    legacyStreamCount: number;
    importedUserCount: number;
    now: string;
  },
): Promise<void> =>
  appendUpgradeMarker(store, {
    stream: LEGACY_TRAFFIC_IMPORT_MARKER_STREAM,
    type: 'LegacyTrafficImported',
    data: {
      scannedToPosition: facts.headPosition.toString(),
      legacyStreamCount: facts.legacyStreamCount,
      importedUserCount: facts.importedUserCount,
      importedAt: facts.now,
    },
    actor: IMPORT_ACTOR,
    now: facts.now,
  });
