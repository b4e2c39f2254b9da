import type {
  AppendResult,
  EventStore,
  EventSubscription,
  ExpectedRevision,
  NewEvent,
  RecordedEvent,
} from '../../domain/ports/event-store.port';
import { followLog } from './follow-log';

/** The reference adapter: the port's semantics with nothing in the way. Tests and benches only. */
export const createInMemoryEventStore = (): EventStore => {
  const log: RecordedEvent[] = [];
  const streams = new Map<string, RecordedEvent[]>();
  const listeners = new Set<() => void>();

  const append = (
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): AppendResult => {
    const current = streams.get(stream) ?? [];
    const revisionActual = current.length === 0 ? null : current.length - 1;
    const start = expected.kind === 'no_stream' ? 0 : expected.revision + 1;
    const matches =
      expected.kind === 'no_stream'
        ? revisionActual === null
        : revisionActual === expected.revision;
    if (!matches) {
      const already = current.slice(start, start + events.length);
      const isRetry =
        already.length === events.length && already.every((e, i) => e.id === events[i]?.id);
      const last = already[already.length - 1];
      if (isRetry && last)
        return { ok: true, lastRevision: last.revision, lastPosition: last.position };
      return { ok: false, reason: 'revision_conflict', revisionActual };
    }
    const recorded = events.map((event, index) => ({
      ...event,
      stream,
      revision: start + index,
      position: BigInt(log.length + index + 1),
    }));
    log.push(...recorded);
    streams.set(stream, [...current, ...recorded]);
    listeners.forEach((listener) => listener());
    const last = recorded[recorded.length - 1];
    if (!last)
      return { ok: true, lastRevision: revisionActual ?? -1, lastPosition: BigInt(log.length) };
    return { ok: true, lastRevision: last.revision, lastPosition: last.position };
  };

  const readAll = (afterPosition: bigint | null, eventCountMax: number): RecordedEvent[] => {
    const start = afterPosition === null ? 0 : Number(afterPosition);
    return log.slice(start, start + eventCountMax);
  };

  return {
    append: (stream, events, expected) => Promise.resolve(append(stream, events, expected)),
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
    close: () => Promise.resolve(),
  };
};
