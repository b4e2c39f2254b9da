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
const SYNCS_METRIC_NAME = 'ledger_event_store_syncs_total';

/** One counter per process and name (the default registry, served at GET /metrics). */
const counterOf = (name: string, help: string): Counter => {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Counter) return existing;
  return new Counter({ name, help });
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
 * another thread's commits, `durableHead`, that thread's durable head (a reading store reads no
 * further), and `walAutoCheckpointPages` (see createSqliteEventStore). Every SQLite commit counts
 * in ledger_event_store_commits_total and every fdatasync of its WAL in
 * ledger_event_store_syncs_total, so that commits and syncs per request can be measured from
 * outside.
 */
export const openEventStore = (
  config: Pick<Config, 'eventStoreUrl' | 'dataDir'>,
  options: Pick<
    SqliteEventStoreOptions,
    'subscriptionPollMs' | 'walAutoCheckpointPages' | 'externalAppends' | 'durableHead'
  > & {
    /** When the embedded store's durable head moves (the read-side thread's append signal). */
    onDurable?: (durableHead: bigint) => void;
  } = {},
): ServiceEventStore => {
  if (config.eventStoreUrl !== null) {
    const store = createEventStoreDbEventStore({ connectionString: config.eventStoreUrl });
    return { ...store, probeWrite: () => store.headPosition().then(() => undefined) };
  }
  const commits = counterOf(
    COMMITS_METRIC_NAME,
    'Durable commits of the embedded event store (one group commit holds many appends)',
  );
  const syncs = counterOf(
    SYNCS_METRIC_NAME,
    'fdatasyncs of the embedded event store WAL (one covers every commit made before it began)',
  );
  return createSqliteEventStore({
    path: join(config.dataDir, EVENTS_FILE_NAME),
    ...options,
    onCommit: () => commits.inc(),
    onSync: () => syncs.inc(),
  });
};
