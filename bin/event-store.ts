import { join } from 'node:path';
import { Counter, register } from 'prom-client';
import { createEventStoreDbEventStore } from '../adapters/eventstore/eventstoredb.event-store';
import {
  createSqliteEventStore,
  type SqliteEventStoreOptions,
} from '../adapters/eventstore/sqlite.event-store';
import type { EventStore } from '../domain/ports/event-store.port';
import type { Config } from './config';

export const EVENTS_FILE_NAME = 'events.sqlite';
const COMMITS_METRIC_NAME = 'ledger_event_store_commits_total';

/** One counter per process (the default registry, served at GET /metrics). */
const commitCounter = (): Counter => {
  const existing = register.getSingleMetric(COMMITS_METRIC_NAME);
  if (existing instanceof Counter) return existing;
  return new Counter({
    name: COMMITS_METRIC_NAME,
    help: 'Fsynced commits of the embedded event store (one group commit holds many appends)',
  });
};

/**
 * The event store with the readiness probe: the embedded store commits a probe row (a real,
 * fsynced write); KurrentDB reads the head of the log, which proves it reachable, not writable.
 */
type ServiceEventStore = EventStore & { probeWrite(): Promise<void> };

/**
 * EventStoreDB when EVENTSTORE_URL is set, else the embedded SQLite log in the data dir, with
 * SQLite's own options: `subscriptionPollMs`, how often an idle subscription looks for appends
 * made elsewhere (another process; EventStoreDB pushes them), `externalAppends`, the signal of
 * another thread's commits, and
 * `walAutoCheckpointPages` (see createSqliteEventStore). Every SQLite commit counts in
 * ledger_event_store_commits_total, so that commits per request can be measured from outside.
 */
export const openEventStore = (
  config: Pick<Config, 'eventStoreUrl' | 'dataDir'>,
  options: Pick<
    SqliteEventStoreOptions,
    'subscriptionPollMs' | 'walAutoCheckpointPages' | 'externalAppends'
  > & {
    /** After each commit of the embedded store (the read-side thread's append signal). */
    onCommitted?: () => void;
  } = {},
): ServiceEventStore => {
  if (config.eventStoreUrl !== null) {
    const store = createEventStoreDbEventStore({ connectionString: config.eventStoreUrl });
    return { ...store, probeWrite: () => store.headPosition().then(() => undefined) };
  }
  const commits = commitCounter();
  const { onCommitted, ...sqliteOptions } = options;
  return createSqliteEventStore({
    path: join(config.dataDir, EVENTS_FILE_NAME),
    ...sqliteOptions,
    onCommit: () => {
      commits.inc();
      onCommitted?.();
    },
  });
};
