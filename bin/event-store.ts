import { join } from 'node:path';
import { createEventStoreDbEventStore } from '../adapters/eventstore/eventstoredb.event-store';
import {
  createSqliteEventStore,
  type SqliteEventStoreOptions,
} from '../adapters/eventstore/sqlite.event-store';
import type { EventStore } from '../domain/ports/event-store.port';
import type { Config } from './config';

export const EVENTS_FILE_NAME = 'events.sqlite';

/**
 * EventStoreDB when EVENTSTORE_URL is set, else the embedded SQLite log in the data dir, with
 * SQLite's own options: `subscriptionPollMs`, how often an idle subscription looks for appends
 * made elsewhere (another thread or process; EventStoreDB pushes them), and
 * `walAutoCheckpointPages` (see createSqliteEventStore).
 */
export const openEventStore = (
  config: Pick<Config, 'eventStoreUrl' | 'dataDir'>,
  options: Pick<SqliteEventStoreOptions, 'subscriptionPollMs' | 'walAutoCheckpointPages'> = {},
): EventStore =>
  config.eventStoreUrl === null
    ? createSqliteEventStore({ path: join(config.dataDir, EVENTS_FILE_NAME), ...options })
    : createEventStoreDbEventStore({ connectionString: config.eventStoreUrl });
