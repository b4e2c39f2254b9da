import { createHash, randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  type EventData,
  FORWARDS,
  type KurrentDBClient,
  type ReadPosition,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  streamNameFilter,
} from '@kurrent/kurrentdb-client';
import { assert } from '../../../domain/assert';
import type { StoredResponse } from '../../../domain/ports/idempotency-store.port';
import type {
  IdempotencyRecord,
  StoredIdempotencyRecord,
} from '../../../domain/ports/event-store.port';
import { collect, lastPosition } from './esdb-all-log';
import { IDEMPOTENCY_STREAM_PREFIX, resolvedPosition, toPortError } from './esdb-mapping';
import { positionAt } from './esdb-streams';

const RECORDED_TYPE = 'IdempotencyKeyRecorded';
const PURGE_PAGE_EVENT_COUNT = 512;

/**
 * Where the append that wrote a record put its last event: the record's position is that event's.
 * Null for an append without events, whose position is the log's head before the record.
 */
export type LastEventAt = { stream: string; revision: number } | null;

type RecordedKey = { record: IdempotencyRecord; lastEvent: LastEventAt };

/** One stream per (scope, key): `no_stream` on it is what makes the key unique. */
export const idempotencyStream = (scope: string, key: string): string =>
  `${IDEMPOTENCY_STREAM_PREFIX}${createHash('sha256').update(`${scope}\n${key}`).digest('hex')}`;

export const toRecordEventData = (record: IdempotencyRecord, lastEvent: LastEventAt): EventData =>
  jsonEvent({ id: randomUUID(), type: RECORDED_TYPE, data: { ...record, lastEvent } });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The stored event's data, written by toRecordEventData; checked, since it comes off the wire. */
const toRecordedKey = (data: unknown): RecordedKey => {
  assert(isObject(data), 'KurrentDB: idempotency record is not an object');
  const { scope, key, fingerprint, response, createdAtMs, lastEvent } = data;
  assert(
    typeof scope === 'string' &&
      typeof key === 'string' &&
      typeof fingerprint === 'string' &&
      typeof createdAtMs === 'number' &&
      isObject(response) &&
      typeof response['status'] === 'number' &&
      isObject(response['headers']),
    'KurrentDB: idempotency record malformed',
  );
  assert(
    lastEvent === null ||
      (isObject(lastEvent) &&
        typeof lastEvent['stream'] === 'string' &&
        typeof lastEvent['revision'] === 'number'),
    'KurrentDB: idempotency record has a malformed lastEvent',
  );
  return {
    record: { scope, key, fingerprint, response: response as StoredResponse, createdAtMs },
    lastEvent: lastEvent as LastEventAt,
  };
};

type KeyEvent = RecordedKey & { revision: number; position: bigint };

/** The last record in a key's stream, or null when it has none (never written, or purged). */
const readKeyEvent = async (client: KurrentDBClient, stream: string): Promise<KeyEvent | null> => {
  try {
    const [resolved] = await collect(
      client.readStream(stream, { fromRevision: END, direction: BACKWARDS, maxCount: 1 }),
    );
    const event = resolved?.event;
    const position = resolved === undefined ? null : resolvedPosition(resolved);
    if (event === undefined || position === null) return null;
    return { ...toRecordedKey(event.data), revision: Number(event.revision), position };
  } catch (error: unknown) {
    if (error instanceof StreamNotFoundError || error instanceof StreamDeletedError) return null;
    throw toPortError(error);
  }
};

/** The position of an append, given its record's key event: see LastEventAt. */
export const appendPosition = async (
  client: KurrentDBClient,
  lastEvent: LastEventAt,
  keyEventPosition: bigint,
): Promise<bigint> =>
  lastEvent === null
    ? ((await lastPosition(client, keyEventPosition)) ?? 0n)
    : positionAt(client, lastEvent.stream, lastEvent.revision);

export const readKeyEventPosition = async (
  client: KurrentDBClient,
  stream: string,
): Promise<bigint> => {
  const keyEvent = await readKeyEvent(client, stream);
  if (keyEvent === null) throw new Error(`KurrentDB: ${stream} missing after its append`);
  return keyEvent.position;
};

export const readIdempotencyRecord = async (
  client: KurrentDBClient,
  scope: string,
  key: string,
): Promise<StoredIdempotencyRecord | null> => {
  const keyEvent = await readKeyEvent(client, idempotencyStream(scope, key));
  if (keyEvent === null) return null;
  const position = await appendPosition(client, keyEvent.lastEvent, keyEvent.position);
  return { ...keyEvent.record, position };
};

/**
 * Purging: KurrentDB cannot delete single events cheaply, and a `$maxAge` on each key stream
 * would be a second write beside the append (not atomic) that expires records without counting
 * them. So a purge reads the key events from $all with a server-side stream-prefix filter (no
 * projections needed) and soft-deletes each key stream whose record is older than the cutoff,
 * at the revision it read: a key recorded again meanwhile is left alone, and a stream another
 * instance deleted first is not counted twice. A soft-deleted stream reads as missing at once;
 * its events leave $all at the next scavenge. The scan resumes where the previous one had to
 * keep its first record (in memory: from the start after a restart), so a purge reads about the
 * records of the retention window, not the whole history.
 */
export const createIdempotencyPurger = (client: KurrentDBClient) => {
  let resumeFrom: ReadPosition = START;
  const filter = streamNameFilter({ prefixes: [IDEMPOTENCY_STREAM_PREFIX] });

  const readKeyPage = async (fromPosition: ReadPosition) => {
    try {
      return await collect(
        client.readAll({
          fromPosition,
          direction: FORWARDS,
          maxCount: PURGE_PAGE_EVENT_COUNT,
          filter,
        }),
      );
    } catch (error: unknown) {
      throw toPortError(error);
    }
  };

  const purgeStream = async (
    stream: string,
    createdBeforeMs: number,
  ): Promise<'deleted' | 'absent' | 'kept'> => {
    const keyEvent = await readKeyEvent(client, stream);
    if (keyEvent === null) return 'absent';
    if (keyEvent.record.createdAtMs >= createdBeforeMs) return 'kept';
    try {
      await client.deleteStream(stream, { expectedRevision: BigInt(keyEvent.revision) });
      return 'deleted';
    } catch (error: unknown) {
      if (error instanceof WrongExpectedVersionError) return 'kept'; // Recorded again meanwhile.
      if (error instanceof StreamDeletedError || error instanceof StreamNotFoundError)
        return 'absent';
      throw toPortError(error);
    }
  };

  return async (createdBeforeMs: number): Promise<number> => {
    let deletedCount = 0;
    let firstKept: ReadPosition | null = null;
    let cursor = resumeFrom;
    let lastSeen: bigint | null = null;
    const seen = new Set<string>();
    for (;;) {
      let freshCount = 0;
      for (const resolved of await readKeyPage(cursor)) {
        const position = resolvedPosition(resolved);
        const stream = resolved.event?.streamId;
        if (position === null || stream === undefined) continue;
        if (lastSeen !== null && position <= lastSeen) continue; // Reads start inclusively.
        lastSeen = position;
        freshCount += 1;
        if (seen.has(stream)) continue;
        seen.add(stream);
        const outcome = await purgeStream(stream, createdBeforeMs);
        if (outcome === 'deleted') deletedCount += 1;
        if (outcome === 'kept') firstKept ??= { commit: position, prepare: position };
      }
      if (freshCount === 0) break;
      if (lastSeen !== null) cursor = { commit: lastSeen, prepare: lastSeen };
    }
    resumeFrom = firstKept ?? cursor;
    return deletedCount;
  };
};
