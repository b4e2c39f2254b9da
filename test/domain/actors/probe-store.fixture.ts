import { createInMemoryEventStore } from '../../../adapters/eventstore/in-memory.event-store';
import type { AppendResult, EventStore, NewEvent } from '../../../domain/ports/event-store.port';

/** Replaces an append: call `next` to let it reach the inner store, or answer without it. */
type AppendInterceptor = (
  next: () => Promise<AppendResult>,
  stream: string,
  events: readonly NewEvent[],
) => Promise<AppendResult>;

/** Wraps the in-memory store to count calls and to inject conflicts, failures and delays. */
export const createProbeStore = () => {
  const inner = createInMemoryEventStore();
  const counts = { append: 0, readStream: 0, eventsRead: 0 };
  let interceptor: AppendInterceptor = (next) => next();
  let readFailure: Error | null = null;
  const store: EventStore = {
    ...inner,
    append: (stream, events, expected) => {
      counts.append += 1;
      return interceptor(() => inner.append(stream, events, expected), stream, events);
    },
    readStream: (stream, options) => {
      counts.readStream += 1;
      if (readFailure !== null) return Promise.reject(readFailure);
      return inner.readStream(stream, options).then((events) => {
        counts.eventsRead += events.length;
        return events;
      });
    },
  };
  return {
    store,
    inner,
    counts,
    intercept: (next: AppendInterceptor): void => {
      interceptor = next;
    },
    failReads: (error: Error | null): void => {
      readFailure = error;
    },
    /** Every event of a stream, straight from the inner store. */
    events: (stream: string) =>
      inner.readStream(stream, { fromRevision: 0, direction: 'forwards', eventCountMax: 10_000 }),
  };
};

/** A promise with its resolve exposed, to hold an append in flight. */
export const gate = () => {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
};
