import { join } from 'node:path';
import { createEventStoreDbEventStore } from '../adapters/eventstore/eventstoredb.event-store';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite.event-store';
import type { EventStore } from '../domain/ports/event-store.port';
import type { Config } from './config';

export const EVENTS_FILE_NAME = 'events.sqlite';

/**
 * EventStoreDB when EVENTSTORE_URL is set, else the embedded SQLite log in the data dir.
 * `subscriptionPollMs`: how often an idle SQLite subscription looks for appends made elsewhere
 * (another thread or process); EventStoreDB pushes them.
 */
export const openEventStore = (
  config: Pick<Config, 'eventStoreUrl' | 'dataDir'>,
  options: { subscriptionPollMs?: number } = {},
): EventStore =>
  config.eventStoreUrl === null
    ? createSqliteEventStore({ path: join(config.dataDir, EVENTS_FILE_NAME), ...options })
    : createEventStoreDbEventStore({ connectionString: config.eventStoreUrl });
