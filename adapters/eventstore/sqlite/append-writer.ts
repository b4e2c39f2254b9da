import type {
  AppendResult,
  ExpectedRevision,
  NewEvent,
  RecordedEvent,
} from '../../../domain/ports/event-store.port';
import { UnavailableError } from '../../../domain/ports/event-store.port';
import type { SqliteDatabase } from '../../sqlite/open-database';
import type { EventTable } from './event-table';
import type { RevisionCache } from './revision-cache';

export type AppendRequest = {
  stream: string;
  events: readonly NewEvent[];
  expected: ExpectedRevision;
};

/** Each append's own outcome within one transaction. */
export type AppendOutcome = { ok: true; result: AppendResult } | { ok: false; error: Error };

class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
}

const matches = (expected: ExpectedRevision, revisionActual: number | null): boolean =>
  expected.kind === 'no_stream' ? revisionActual === null : expected.revision === revisionActual;

// Duck-typed, not `instanceof`: better-sqlite3's native half keeps the SqliteError class of the
// first module registry that loaded it, so under jest the error can come from another realm.
const errorField = (error: unknown, field: 'code' | 'message'): string => {
  if (typeof error !== 'object' || error === null || !(field in error)) return '';
  const value: unknown = (error as Record<typeof field, unknown>)[field];
  return typeof value === 'string' ? value : '';
};

// SQLite reports "UNIQUE constraint failed: events.stream, events.revision" when another process
// wrote the stream after our cache learnt its revision, and "...: events.id" for a reused id.
const violates = (error: unknown, columns: string): boolean =>
  errorField(error, 'code') === 'SQLITE_CONSTRAINT_UNIQUE' &&
  errorField(error, 'message').endsWith(columns);

/** A locked, broken or full disk is an outage (503); anything else stays what it is, a bug. */
export const toStoreError = (error: unknown): unknown => {
  const code = errorField(error, 'code');
  const outage = ['SQLITE_BUSY', 'SQLITE_IOERR', 'SQLITE_FULL'].some((p) => code.startsWith(p));
  return outage ? new UnavailableError(`sqlite event store: ${code}`, { cause: error }) : error;
};

/** The answer when the stream is not at `expected`: a retry of what is there, or a conflict. */
const refuse = (
  table: EventTable,
  { stream, events, expected }: AppendRequest,
  revisionActual: number | null,
): AppendResult => {
  const start = expected.kind === 'no_stream' ? 0 : expected.revision + 1;
  const written = events.length === 0 ? [] : table.readForwards(stream, start, events.length);
  const isRetry =
    written.length === events.length && written.every((e, i) => e.id === events[i]?.id);
  const last = written[written.length - 1];
  if (isRetry && last)
    return { ok: true, lastRevision: last.revision, lastPosition: last.position };
  return { ok: false, reason: 'revision_conflict', revisionActual };
};

/**
 * Writes a batch of appends in ONE immediate transaction, each checked on its own inside a
 * savepoint, so that a refused append leaves the others to commit. The revision cache makes the
 * check one map lookup; the table stays the truth whenever the cache misses, disagrees or is stale.
 */
export const createAppendWriter = (
  db: SqliteDatabase,
  table: EventTable,
  cache: RevisionCache,
  /** After each committed batch: the events it wrote, in position order. */
  onWritten: (events: readonly RecordedEvent[]) => void,
) => {
  let written: RecordedEvent[] = [];
  const insertAll = db.transaction((append: AppendRequest, revisionLast: number | null) => {
    let revision = revisionLast ?? -1;
    let position = 0n;
    for (const event of append.events) {
      revision += 1;
      try {
        position = table.insert(append.stream, revision, event);
      } catch (error: unknown) {
        if (!violates(error, 'events.id')) throw error;
        const message = `append to ${append.stream}: event id ${event.id} already exists`;
        throw new DuplicateEventIdError(message, { cause: error });
      }
    }
    cache.set(append.stream, revision);
    const firstRevision = revision - append.events.length + 1;
    const firstPosition = position - BigInt(append.events.length - 1);
    append.events.forEach((event, index) =>
      written.push({
        ...event,
        stream: append.stream,
        revision: firstRevision + index,
        position: firstPosition + BigInt(index),
      }),
    );
    const result: AppendResult = { ok: true, lastRevision: revision, lastPosition: position };
    return result;
  });

  const write = (append: AppendRequest): AppendResult => {
    const { stream, events, expected } = append;
    const revisionCached = cache.get(stream);
    if (revisionCached !== undefined && events.length > 0 && matches(expected, revisionCached)) {
      try {
        return insertAll(append, revisionCached);
      } catch (error: unknown) {
        if (!violates(error, 'events.stream, events.revision')) throw error;
      }
    }
    const revisionActual = table.lastRevision(stream);
    if (revisionActual !== null) cache.set(stream, revisionActual);
    if (!matches(expected, revisionActual)) return refuse(table, append, revisionActual);
    if (events.length > 0) return insertAll(append, revisionActual);
    const lastPosition = table.headPosition() ?? 0n;
    return { ok: true, lastRevision: revisionActual ?? -1, lastPosition };
  };

  const writeBatch = db.transaction((batch: readonly AppendRequest[]): AppendOutcome[] =>
    batch.map((append) => {
      const writtenBefore = written.length;
      try {
        return { ok: true, result: write(append) };
      } catch (error: unknown) {
        written.length = writtenBefore; // Its savepoint rolled back: nothing of it was written.
        if (error instanceof DuplicateEventIdError) return { ok: false, error };
        throw error; // Anything else fails the whole transaction.
      }
    }),
  );

  return (batch: readonly AppendRequest[]): AppendOutcome[] => {
    written = [];
    const outcomes = writeBatch.immediate(batch);
    onWritten(written); // In position order: the batch's appends are written one after another.
    return outcomes;
  };
};
