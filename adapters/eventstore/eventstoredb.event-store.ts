import { EventStoreDBClient } from '@eventstore/db-client';
import type { EventStore, EventSubscription } from '../../domain/ports/event-store.port';
import { lastPosition, readAllAfter, subscribeAfter } from './eventstoredb/esdb-all-log';
import { toPortError } from './eventstoredb/esdb-mapping';
import { appendToStream, readStreamPage } from './eventstoredb/esdb-streams';

export type EventStoreDbEventStoreOptions = {
  /** e.g. `esdb://localhost:2113?tls=false`; see the client's connection string options. */
  connectionString: string;
};

const rethrowAsPortError = (error: unknown): never => {
  throw toPortError(error);
};

/**
 * The event store on EventStoreDB 22.6 or later (stream reads must carry positions). Revisions
 * are ESDB's own 0-based event numbers; positions are commit positions in $all, which also holds
 * the server's system events: reads and subscriptions leave those out.
 */
export const createEventStoreDbEventStore = (
  options: EventStoreDbEventStoreOptions,
): EventStore => {
  const client = EventStoreDBClient.connectionString(options.connectionString);
  const subscriptions = new Set<EventSubscription>();
  return {
    append: (stream, events, expected) => appendToStream(client, stream, events, expected),
    readStream: (stream, readOptions) => readStreamPage(client, stream, readOptions),
    readAll: ({ afterPosition, eventCountMax }) =>
      readAllAfter(client, afterPosition, eventCountMax).catch(rethrowAsPortError),
    subscribeToAll: ({ afterPosition }) => {
      const subscription: EventSubscription = subscribeAfter(client, afterPosition, () =>
        subscriptions.delete(subscription),
      );
      subscriptions.add(subscription);
      return subscription;
    },
    headPosition: () => lastPosition(client).catch(rethrowAsPortError),
    close: async () => {
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await client.dispose();
    },
  };
};
