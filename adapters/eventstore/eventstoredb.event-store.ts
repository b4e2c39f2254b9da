import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import {
  type EventStore,
  type EventSubscription,
  UnavailableError,
} from '../../domain/ports/event-store.port';
import { lastPosition, readAllAfter, subscribeAfter } from './eventstoredb/esdb-all-log';
import { streamHeadsOf } from './stream-heads';
import { createIdempotencyPurger, readIdempotencyRecord } from './eventstoredb/esdb-idempotency';
import { toPortError } from './eventstoredb/esdb-mapping';
import { appendMulti, checkMultiStreamAppend } from './eventstoredb/esdb-multi-append';
import { appendToStream, readStreamPage } from './eventstoredb/esdb-streams';

type EventStoreDbEventStoreOptions = {
  /** e.g. `kurrentdb://localhost:2113?tls=false`; see the client's connection string options. */
  connectionString: string;
};

const rethrowAsPortError = (error: unknown): never => {
  throw toPortError(error);
};

/**
 * The event store on KurrentDB 25.1 or later (multi-stream append). Revisions are KurrentDB's own
 * 0-based event numbers; positions are commit positions in $all, which also holds the server's
 * system events and this adapter's idempotency streams: reads and subscriptions leave those out.
 *
 * Every call first checks, once, that the server has multi-stream append, so that a service on an
 * older server fails at its first read, at start, with an Error naming the version it needs. An
 * outage during the check proves nothing: the next call checks again.
 */
export const createEventStoreDbEventStore = (
  options: EventStoreDbEventStoreOptions,
): EventStore => {
  const client = KurrentDBClient.connectionString(options.connectionString);
  const subscriptions = new Set<EventSubscription>();
  const purge = createIdempotencyPurger(client);
  let supported: Promise<void> | null = null;
  const ready = (): Promise<void> => {
    supported ??= checkMultiStreamAppend(client).catch((error: unknown) => {
      if (error instanceof UnavailableError) supported = null;
      throw error;
    });
    return supported;
  };
  const whenReady = async <T>(work: () => Promise<T>): Promise<T> => {
    await ready();
    return work();
  };
  return {
    append: (stream, events, expected) =>
      whenReady(() => appendToStream(client, stream, events, expected)),
    appendMulti: (appends, records) => whenReady(() => appendMulti(client, appends, records)),
    readIdempotencyRecord: (scope, key) =>
      whenReady(() => readIdempotencyRecord(client, scope, key)),
    purgeIdempotencyRecords: (createdBeforeMs) => whenReady(() => purge(createdBeforeMs)),
    readStream: (stream, readOptions) =>
      whenReady(() => readStreamPage(client, stream, readOptions)),
    readAll: ({ afterPosition, eventCountMax }) =>
      whenReady(() => readAllAfter(client, afterPosition, eventCountMax)).catch(rethrowAsPortError),
    subscribeToAll: ({ afterPosition }) => {
      const subscription: EventSubscription = subscribeAfter(client, afterPosition, {
        ready,
        onClose: () => subscriptions.delete(subscription),
      });
      subscriptions.add(subscription);
      return subscription;
    },
    headPosition: () => whenReady(() => lastPosition(client)).catch(rethrowAsPortError),
    // The server cannot count: the events are read, as a reader would read them.
    countAfter: ({ afterPosition, eventCountMax }) =>
      whenReady(() => readAllAfter(client, afterPosition, eventCountMax))
        .then((after) => ({
          eventCount: after.length,
          firstOccurredAt: after[0]?.metadata.occurredAt ?? null,
        }))
        .catch(rethrowAsPortError),
    readStreamHeads: ({ afterPosition, untilPosition, eventCountMax }) =>
      whenReady(() => readAllAfter(client, afterPosition, eventCountMax))
        .then((page) => streamHeadsOf(page, untilPosition))
        .catch(rethrowAsPortError),
    close: async () => {
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await client.dispose();
    },
  };
};
