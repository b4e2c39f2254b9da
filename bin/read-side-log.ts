import { followLog } from '../adapters/eventstore/follow-log';
import { type EventRow, UNBOUNDED_POSITION } from '../adapters/eventstore/sqlite/event-table';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import type {
  EventMetadata,
  EventStore,
  JsonObject,
  RecordedEvent,
} from '../domain/ports/event-store.port';

/**
 * The read side's own reads of the embedded log (the worker's catch-up and live subscription),
 * through a connection of its own to the events file: the rows of the events table as the
 * SQLite event store writes and reads them (adapters/eventstore/sqlite/event-table.ts), with
 * each event's `data` parsed only when something reads it, and its stored text kept beside it as
 * `dataText`. The traffic projection decodes a report's usages from that text
 * (projections/traffic-usage-text.ts, every field checked as the traffic codec checks it) instead
 * of having a thousand-record report parsed into a tree of arrays it then walks and drops:
 * under traffic reports that parse was the read side's largest cost after its writes. Every
 * other event reads as before: its data is parsed on first use, with JSON.parse, as the store's
 * own read parses it. Everything but readAll and subscribeToAll is the store's.
 */
/** Events per page of the live subscription (the store's own subscription reads 512). */
const SUBSCRIPTION_PAGE_EVENT_COUNT_MAX = 512;

const eventOf = (row: EventRow): RecordedEvent & { readonly dataText: string } => {
  let data: JsonObject | null = null;
  return {
    id: row.id,
    type: row.type,
    stream: row.stream,
    revision: Number(row.revision),
    position: row.position,
    metadata: JSON.parse(row.metadata) as EventMetadata,
    dataText: row.data,
    get data(): JsonObject {
      data ??= JSON.parse(row.data) as JsonObject;
      return data;
    },
  };
};

export const withReadSideLog = (
  store: EventStore,
  options: {
    path: string;
    pollMs: number;
    /** The API thread's commits (bin/append-signal.ts); null: the poll alone. */
    externalAppends: ((listener: () => void) => () => void) | null;
    /**
     * The API thread's durable head (bin/append-signal.ts): no row past it is read, so that
     * nothing committed and not yet fsynced reaches the read models or SSE. null: the thread
     * has the log to itself (a rebuild from the CLI), every row is read.
     */
    durableHead?: (() => bigint) | null;
  },
): EventStore => {
  const db = openSqliteDatabase(options.path);
  const after = db
    .prepare<[bigint, bigint, number], EventRow>(
      'SELECT position, stream, revision, id, type, data, metadata FROM events ' +
        'WHERE position > ? AND position <= ? ORDER BY position LIMIT ?',
    )
    .safeIntegers(true);
  const { durableHead } = options;
  const readAfter = (afterPosition: bigint | null, eventCountMax: number): RecordedEvent[] =>
    after
      .all(afterPosition ?? 0n, durableHead?.() ?? UNBOUNDED_POSITION, eventCountMax)
      .map(eventOf);
  const { externalAppends } = options;
  return {
    ...store,
    readAll: ({ afterPosition, eventCountMax }) =>
      Promise.resolve(readAfter(afterPosition, eventCountMax)),
    subscribeToAll: ({ afterPosition }) =>
      followLog({
        afterPosition,
        pollMs: options.pollMs,
        readPage: (position) =>
          Promise.resolve(readAfter(position, SUBSCRIPTION_PAGE_EVENT_COUNT_MAX)),
        onAppend: externalAppends ?? (() => () => undefined),
      }),
    close: async () => {
      db.close();
      await store.close();
    },
  };
};
