import { sameEvent } from '../../domain/ports/event-store.port';
import type {
  AppendResult,
  EventStore,
  EventSubscription,
  ExpectedRevision,
  IdempotencyRecord,
  MultiAppendResult,
  NewEvent,
  RecordedEvent,
  StoredIdempotencyRecord,
  StreamAppend,
  StreamAppendResult,
} from '../../domain/ports/event-store.port';
import { followLog } from './follow-log';
import { streamHeadsOf } from './stream-heads';

const recordKey = (scope: string, key: string): string => JSON.stringify([scope, key]);

/** The reference adapter: the port's semantics with nothing in the way. Tests and benches only. */
export const createInMemoryEventStore = (): EventStore => {
  const log: RecordedEvent[] = [];
  const streams = new Map<string, RecordedEvent[]>();
  const records = new Map<string, StoredIdempotencyRecord>();
  const listeners = new Set<() => void>();

  const revisionOf = (stream: string): number | null => {
    const length = streams.get(stream)?.length ?? 0;
    return length === 0 ? null : length - 1;
  };
  const isAt = (stream: string, expected: ExpectedRevision): boolean =>
    expected.kind === 'no_stream'
      ? revisionOf(stream) === null
      : revisionOf(stream) === expected.revision;
  /** The events stored right after `expected` when their ids are those of `events`, else null. */
  const storedRetry = (
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): RecordedEvent[] | null => {
    const start = expected.kind === 'no_stream' ? 0 : expected.revision + 1;
    const already = (streams.get(stream) ?? []).slice(start, start + events.length);
    const same =
      already.length === events.length && already.every((e, i) => sameEvent(e, events[i]));
    return same ? already : null;
  };
  const write = (stream: string, events: readonly NewEvent[]): RecordedEvent[] => {
    const current = streams.get(stream) ?? [];
    const recorded = events.map((event, index) => ({
      ...event,
      stream,
      revision: current.length + index,
      position: BigInt(log.length + index + 1),
    }));
    log.push(...recorded);
    streams.set(stream, [...current, ...recorded]);
    return recorded;
  };

  const append = (
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): AppendResult => {
    const revisionActual = revisionOf(stream);
    if (!isAt(stream, expected)) {
      const last = storedRetry(stream, events, expected)?.at(-1);
      if (last) return { ok: true, lastRevision: last.revision, lastPosition: last.position };
      return { ok: false, reason: 'revision_conflict', revisionActual };
    }
    const last = write(stream, events).at(-1);
    listeners.forEach((listener) => listener());
    if (!last)
      return { ok: true, lastRevision: revisionActual ?? -1, lastPosition: BigInt(log.length) };
    return { ok: true, lastRevision: last.revision, lastPosition: last.position };
  };

  /** The answer to an append whose streams' last events are `lasts` (undefined: none). */
  const succeeded = (
    appends: readonly StreamAppend[],
    lasts: readonly (RecordedEvent | undefined)[],
    lastPosition: bigint,
  ): MultiAppendResult => {
    const results = appends.map(({ stream }, index): StreamAppendResult => {
      const last = lasts[index];
      return last
        ? { stream, lastRevision: last.revision, lastPosition: last.position }
        : { stream, lastRevision: revisionOf(stream) ?? -1, lastPosition };
    });
    return { ok: true, streams: results, lastPosition };
  };

  /** A retry of a stored append when every stream holds exactly its events after `expected`. */
  const retried = (appends: readonly StreamAppend[]): MultiAppendResult | null => {
    const stored = appends.map(({ stream, events, expected }) => {
      if (events.length > 0) return storedRetry(stream, events, expected);
      return isAt(stream, expected) ? [] : null; // Past `expected` by no event: still at it.
    });
    if (stored.some((events) => events === null)) return null;
    const lasts = stored.map((events) => events?.at(-1));
    const lastPosition = lasts.reduce(
      (max, last) => (last && last.position > max ? last.position : max),
      0n,
    );
    return succeeded(appends, lasts, lastPosition);
  };

  const appendMulti = (
    appends: readonly StreamAppend[],
    newRecords: readonly IdempotencyRecord[],
  ): MultiAppendResult => {
    const streamNames = new Set(appends.map((part) => part.stream));
    if (streamNames.size !== appends.length) throw new Error('appendMulti: a stream appears twice');
    const keys = new Set(newRecords.map((record) => recordKey(record.scope, record.key)));
    if (keys.size !== newRecords.length)
      throw new Error('appendMulti: a (scope, key) appears twice');

    const conflicts = appends
      .filter(({ stream, expected }) => !isAt(stream, expected))
      .map(({ stream }) => ({ stream, revisionActual: revisionOf(stream) }));
    if (conflicts.length > 0) {
      const retry = newRecords.length === 0 ? retried(appends) : null;
      return retry ?? { ok: false, reason: 'revision_conflict', conflicts };
    }
    const existing = newRecords.flatMap((record) => {
      const stored = records.get(recordKey(record.scope, record.key));
      return stored ? [stored] : [];
    });
    if (existing.length > 0) return { ok: false, reason: 'idempotency_key_exists', existing };

    const lasts = appends.map(({ stream, events }) => write(stream, events).at(-1));
    const lastPosition = BigInt(log.length);
    for (const record of newRecords)
      records.set(recordKey(record.scope, record.key), { ...record, position: lastPosition });
    listeners.forEach((listener) => listener());
    return succeeded(appends, lasts, lastPosition);
  };

  const purge = (createdBeforeMs: number): number => {
    const old = [...records].filter(([, record]) => record.createdAtMs < createdBeforeMs);
    old.forEach(([key]) => records.delete(key));
    return old.length;
  };

  const readAll = (afterPosition: bigint | null, eventCountMax: number): RecordedEvent[] => {
    const start = afterPosition === null ? 0 : Number(afterPosition);
    return log.slice(start, start + eventCountMax);
  };

  return {
    append: (stream, events, expected) => Promise.resolve(append(stream, events, expected)),
    // async: a caller bug rejects the promise rather than throwing from the call.
    appendMulti: async (appends, newRecords) => appendMulti(appends, newRecords),
    readIdempotencyRecord: (scope, key) =>
      Promise.resolve(records.get(recordKey(scope, key)) ?? null),
    purgeIdempotencyRecords: (createdBeforeMs) => Promise.resolve(purge(createdBeforeMs)),
    readStream: (stream, { fromRevision, direction, eventCountMax }) => {
      const events = streams.get(stream) ?? [];
      if (direction === 'forwards') {
        const from = fromRevision === 'end' ? events.length : fromRevision;
        return Promise.resolve(events.slice(from, from + eventCountMax));
      }
      const from =
        fromRevision === 'end' ? events.length - 1 : Math.min(fromRevision, events.length - 1);
      const until = Math.max(from + 1 - eventCountMax, 0);
      return Promise.resolve(events.slice(until, from + 1).reverse());
    },
    readAll: ({ afterPosition, eventCountMax }) =>
      Promise.resolve(readAll(afterPosition, eventCountMax)),
    subscribeToAll: ({ afterPosition }): EventSubscription =>
      followLog({
        afterPosition,
        readPage: (after) => Promise.resolve(readAll(after, 512)),
        onAppend: (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      }),
    headPosition: () => Promise.resolve(log.length === 0 ? null : BigInt(log.length)),
    countAfter: ({ afterPosition, eventCountMax }) => {
      const after = readAll(afterPosition, eventCountMax);
      const firstOccurredAt = after[0]?.metadata.occurredAt ?? null;
      return Promise.resolve({ eventCount: after.length, firstOccurredAt });
    },
    readStreamHeads: ({ afterPosition, untilPosition, eventCountMax }) =>
      Promise.resolve(streamHeadsOf(readAll(afterPosition, eventCountMax), untilPosition)),
    close: () => Promise.resolve(),
  };
};
