import { assert } from '../../../domain/assert';
import { sameEvent } from '../../../domain/ports/event-store.port';
import type {
  ExpectedRevision,
  IdempotencyRecord,
  MultiAppendResult,
  RecordedEvent,
  StreamAppend,
  StreamAppendResult,
} from '../../../domain/ports/event-store.port';
import { UnavailableError } from '../../../domain/ports/event-store.port';
import type { SqliteDatabase } from '../../sqlite/open-database';
import { type EventTable, UNBOUNDED_POSITION } from './event-table';
import type { IdempotencyTable } from './idempotency-table';
import type { RevisionCache } from './revision-cache';

/** What one append call asks for: several streams and the idempotency records, all or none. */
export type AppendUnit = {
  appends: readonly StreamAppend[];
  records: readonly IdempotencyRecord[];
};

/** Each unit's own outcome within one transaction. */
export type UnitOutcome = { ok: true; result: MultiAppendResult } | { ok: false; error: Error };

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

const firstRevisionAfter = (expected: ExpectedRevision): number =>
  expected.kind === 'no_stream' ? 0 : expected.revision + 1;

/**
 * Writes a batch of units in ONE immediate transaction, each inside its own savepoint, so that a
 * refused unit leaves the others to commit. The revision cache makes each stream's check one map
 * lookup; the table stays the truth whenever the cache misses, disagrees or is stale.
 */
export const createAppendWriter = (
  db: SqliteDatabase,
  table: EventTable,
  records: IdempotencyTable,
  cache: RevisionCache,
  /** After each committed batch: the events it wrote, in position order. */
  onWritten: (events: readonly RecordedEvent[]) => void,
) => {
  let written: RecordedEvent[] = [];

  const revisionOf = (stream: string, useCache: boolean): number | null => {
    const cached = useCache ? cache.get(stream) : undefined;
    if (cached !== undefined) return cached;
    const actual = table.lastRevision(stream);
    if (actual !== null) cache.set(stream, actual);
    return actual;
  };

  /** Inserts every event and record; runs in a savepoint, so a throw undoes all of the unit. */
  const insertUnit = db.transaction(
    (unit: AppendUnit, revisions: readonly (number | null)[]): MultiAppendResult => {
      let unitLast: bigint | null = null;
      const streams = unit.appends.map(({ stream, events }, index): StreamAppendResult => {
        let revision = revisions[index] ?? -1;
        let streamLast: bigint | null = null;
        for (const event of events) {
          revision += 1;
          try {
            streamLast = table.insert(stream, revision, event);
          } catch (error: unknown) {
            if (!violates(error, 'events.id')) throw error;
            const message = `append to ${stream}: event id ${event.id} already exists`;
            throw new DuplicateEventIdError(message, { cause: error });
          }
          written.push({ ...event, stream, revision, position: streamLast });
        }
        unitLast = streamLast ?? unitLast;
        return { stream, lastRevision: revision, lastPosition: streamLast ?? -1n };
      });
      const lastPosition = unitLast ?? table.headPosition() ?? 0n;
      // The keys were checked in this same write-locked transaction: a UNIQUE violation here
      // means one unit carried a key twice, a caller's bug.
      for (const record of unit.records) records.insert(record, lastPosition);
      const filled = streams.map((entry) =>
        entry.lastPosition === -1n ? { ...entry, lastPosition } : entry,
      );
      return { ok: true, streams: filled, lastPosition };
    },
  );

  /** The answer when some stream is not at its expected revision: a retry, or a conflict. */
  const refuse = (unit: AppendUnit, revisions: readonly (number | null)[]): MultiAppendResult => {
    const conflicts = unit.appends
      .map(({ stream, expected }, index) => ({
        stream,
        expected,
        revisionActual: revisions[index] ?? null,
      }))
      .filter(({ expected, revisionActual }) => !matches(expected, revisionActual))
      .map(({ stream, revisionActual }) => ({ stream, revisionActual }));
    const retried = unit.records.length === 0 ? unit.appends.map(storedRetry) : [];
    if (retried.length === 0 || retried.some((entry) => entry === null)) {
      return { ok: false, reason: 'revision_conflict', conflicts };
    }
    const streams = retried.filter((entry): entry is StreamAppendResult => entry !== null);
    const positions = streams.map((entry) => entry.lastPosition);
    const lastPosition = positions.reduce((max, p) => (p > max ? p : max), -1n);
    return {
      ok: true,
      streams: streams.map((e) => (e.lastPosition === -1n ? { ...e, lastPosition } : e)),
      lastPosition,
    };
  };

  /** The stored result of one stream's part when it is exactly what was appended before. */
  const storedRetry = ({ stream, events, expected }: StreamAppend): StreamAppendResult | null => {
    if (events.length === 0) {
      const actual = table.lastRevision(stream);
      return matches(expected, actual)
        ? { stream, lastRevision: actual ?? -1, lastPosition: -1n }
        : null;
    }
    const from = firstRevisionAfter(expected);
    const stored = table.readForwards(stream, from, events.length, UNBOUNDED_POSITION);
    const same = stored.length === events.length && stored.every((e, i) => sameEvent(e, events[i]));
    const last = stored[stored.length - 1];
    return same && last !== undefined
      ? { stream, lastRevision: last.revision, lastPosition: last.position }
      : null;
  };

  const writeUnit = (unit: AppendUnit): MultiAppendResult => {
    const names = new Set(unit.appends.map((append) => append.stream));
    assert(names.size === unit.appends.length, 'appendMulti: a stream appears twice');
    for (const useCache of [true, false]) {
      const revisions = unit.appends.map(({ stream }) => revisionOf(stream, useCache));
      const allMatch = unit.appends.every(({ expected }, i) =>
        matches(expected, revisions[i] ?? null),
      );
      if (!allMatch) {
        if (useCache) continue; // The cache may be stale: decide on the table's word.
        return refuse(unit, revisions);
      }
      const existing = unit.records
        .map((record) => records.find(record.scope, record.key))
        .filter((found) => found !== null);
      if (existing.length > 0) return { ok: false, reason: 'idempotency_key_exists', existing };
      const writtenBefore = written.length;
      try {
        const result = insertUnit(unit, revisions);
        if (result.ok) result.streams.forEach((e) => cache.set(e.stream, e.lastRevision));
        return result;
      } catch (error: unknown) {
        written.length = writtenBefore; // Its savepoint rolled back: nothing of it was written.
        const stale = violates(error, 'events.stream, events.revision');
        if (!stale || !useCache) throw error;
        unit.appends.forEach(({ stream }) => cache.delete(stream));
      }
    }
    throw new Error('appendMulti: unreachable');
  };

  const writeBatch = db.transaction((batch: readonly AppendUnit[]): UnitOutcome[] =>
    batch.map((unit) => {
      const writtenBefore = written.length;
      try {
        return { ok: true, result: writeUnit(unit) };
      } catch (error: unknown) {
        written.length = writtenBefore;
        if (error instanceof DuplicateEventIdError) return { ok: false, error };
        throw error; // Anything else fails the whole transaction.
      }
    }),
  );

  return (batch: readonly AppendUnit[]): UnitOutcome[] => {
    written = [];
    const outcomes = writeBatch.immediate(batch);
    onWritten(written); // In position order: the batch's units are written one after another.
    return outcomes;
  };
};
