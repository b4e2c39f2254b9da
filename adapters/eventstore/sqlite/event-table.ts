import type {
  EventMetadata,
  EventsAfter,
  JsonObject,
  NewEvent,
  RecordedEvent,
  StreamHeadsPage,
} from '../../../domain/ports/event-store.port';
import { assert } from '../../../domain/assert';
import { storedDataText } from '../../../domain/event-chain';
import { ensureSchema, type SqliteDatabase } from '../../sqlite/open-database';

const SCHEMA_COMPONENT = 'event_store';
const SCHEMA_VERSION = 1;

// UNIQUE (stream, revision) is both the optimistic-concurrency guard and the index that makes a
// stream's last revision one seek, so no separate streams table has to be kept in step.
const createTables = (db: SqliteDatabase): void => {
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position INTEGER PRIMARY KEY AUTOINCREMENT,
      stream TEXT NOT NULL,
      revision INTEGER NOT NULL,
      id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL,
      data TEXT NOT NULL,
      metadata TEXT NOT NULL,
      UNIQUE (stream, revision)
    ) STRICT;
  `);
};

/** A row of the events table as stored (the read side's own reader reads the same rows). */
export type EventRow = {
  position: bigint;
  stream: string;
  revision: bigint;
  id: string;
  type: string;
  data: string;
  metadata: string;
};

type StreamHeadRow = {
  stream: string;
  revision: bigint;
  event_count: bigint;
  last_position: bigint;
  metadata: string;
};

/** The hash a stored event's metadata carries; throws, naming the event, on anything else. */
const hashOfMetadata = (metadataText: string, eventName: string): string => {
  let metadata: unknown;
  try {
    metadata = JSON.parse(metadataText);
  } catch {
    throw new Error(`${eventName}: metadata is not JSON`);
  }
  const hash = (metadata as { hash?: unknown } | null)?.hash;
  assert(typeof hash === 'string', `${eventName}: metadata without hash`);
  return hash;
};

const toRecorded = (row: EventRow): RecordedEvent => ({
  id: row.id,
  type: row.type,
  data: JSON.parse(row.data) as JsonObject,
  metadata: JSON.parse(row.metadata) as EventMetadata,
  stream: row.stream,
  revision: Number(row.revision),
  position: row.position,
});

const COLUMNS = 'position, stream, revision, id, type, data, metadata';

/** The bound of a read that may see every committed row (the writer's own checks). */
export const UNBOUNDED_POSITION = 2n ** 63n - 1n;

/** The events table behind prepared statements; every integer comes back as a bigint. */
export type EventTable = ReturnType<typeof openEventTable>;

export const openEventTable = (db: SqliteDatabase) => {
  ensureSchema(db, SCHEMA_COMPONENT, SCHEMA_VERSION, createTables);
  const prepare = (sql: string) => db.prepare<unknown[], EventRow>(sql).safeIntegers(true);
  const forwards = prepare(
    `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? AND position <= ? ` +
      'ORDER BY revision LIMIT ?',
  );
  const backwards = prepare(
    `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision <= ? AND position <= ? ` +
      'ORDER BY revision DESC LIMIT ?',
  );
  const after = prepare(
    `SELECT ${COLUMNS} FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`,
  );
  const lastRevision = db
    .prepare<[string], bigint>(
      'SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
    )
    .pluck()
    .safeIntegers(true);
  const countAfter = db
    .prepare<[bigint, bigint, number], bigint>(
      'SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE position > ? AND position <= ? LIMIT ?)',
    )
    .pluck()
    .safeIntegers(true);
  const firstMetadataAfter = db
    .prepare<[bigint], string>(
      'SELECT metadata FROM events WHERE position > ? ORDER BY position LIMIT 1',
    )
    .pluck();
  // SQLite folds the page (no row leaves it as an object but one per stream); the hash is read
  // from each stream's last event in the page only.
  const streamHeads = db
    .prepare<[bigint, bigint, number], StreamHeadRow>(
      `WITH page AS (
         SELECT position, stream, revision FROM events
         WHERE position > ? AND position <= ? ORDER BY position LIMIT ?
       ), moved AS (
         SELECT stream, MAX(revision) AS revision, COUNT(*) AS event_count,
           MIN(position) AS first_position, MAX(position) AS last_position
         FROM page GROUP BY stream
       )
       SELECT moved.stream, moved.revision, moved.event_count, moved.last_position,
         events.metadata
       FROM moved JOIN events ON events.stream = moved.stream AND events.revision = moved.revision
       ORDER BY moved.first_position`,
    )
    .safeIntegers(true);
  const head = db
    .prepare<[], bigint | null>('SELECT MAX(position) FROM events')
    .pluck()
    .safeIntegers(true);
  const insert = db
    .prepare(
      'INSERT INTO events (stream, revision, id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)',
    )
    .safeIntegers(true);

  // Every read but the writer's own takes `untilPosition`, the highest position it may return:
  // the durable head (sqlite.event-store.ts), so that no reader sees a commit before its fsync.
  return {
    readForwards: (
      stream: string,
      fromRevision: number,
      eventCountMax: number,
      untilPosition: bigint,
    ): RecordedEvent[] =>
      forwards.all(stream, fromRevision, untilPosition, eventCountMax).map(toRecorded),
    /** `fromRevision` null reads from the stream's end. */
    readBackwards: (
      stream: string,
      fromRevision: number | null,
      eventCountMax: number,
      untilPosition: bigint,
    ): RecordedEvent[] =>
      backwards
        .all(stream, fromRevision ?? Number.MAX_SAFE_INTEGER, untilPosition, eventCountMax)
        .map(toRecorded),
    readAfter: (
      afterPosition: bigint | null,
      eventCountMax: number,
      untilPosition: bigint,
    ): RecordedEvent[] =>
      after.all(afterPosition ?? 0n, untilPosition, eventCountMax).map(toRecorded),
    lastRevision: (stream: string): number | null => {
      const revision = lastRevision.get(stream);
      return revision === undefined ? null : Number(revision);
    },
    headPosition: (): bigint | null => head.get() ?? null,
    countAfter: (
      afterPosition: bigint | null,
      eventCountMax: number,
      untilPosition: bigint,
    ): EventsAfter => {
      const from = afterPosition ?? 0n;
      const eventCount = Number(countAfter.get(from, untilPosition, eventCountMax) ?? 0n);
      const metadata = eventCount === 0 ? undefined : firstMetadataAfter.get(from);
      const firstOccurredAt =
        metadata === undefined ? null : (JSON.parse(metadata) as EventMetadata).occurredAt;
      return { eventCount, firstOccurredAt };
    },
    streamHeads: (
      afterPosition: bigint | null,
      untilPosition: bigint,
      eventCountMax: number,
    ): StreamHeadsPage => {
      const rows = streamHeads.all(afterPosition ?? 0n, untilPosition, eventCountMax);
      let eventCount = 0;
      let lastPosition: bigint | null = null;
      const heads = rows.map((row) => {
        eventCount += Number(row.event_count);
        if (lastPosition === null || row.last_position > lastPosition)
          lastPosition = row.last_position;
        const revision = Number(row.revision);
        // A head whose metadata is not JSON or lost its hash is never anchored. Parsed here, one
        // row per moved stream (json_extract's refusal of malformed text was not the same on
        // every run of the suite).
        const hash = hashOfMetadata(row.metadata, `${row.stream} at ${revision}`);
        return {
          stream: row.stream,
          revision,
          hash,
          eventCount: Number(row.event_count),
        };
      });
      return { heads, eventCount, lastPosition };
    },
    /** Inserts one event and returns its position; throws SQLite's error on a UNIQUE violation. */
    insert: (stream: string, revision: number, event: NewEvent): bigint => {
      const data = storedDataText(event.data); // The text the hash chain covers (version 2).
      const metadata = JSON.stringify(event.metadata);
      const { lastInsertRowid } = insert.run(
        stream,
        revision,
        event.id,
        event.type,
        data,
        metadata,
      );
      return BigInt(lastInsertRowid);
    },
  };
};
