import { join } from 'node:path';
import type { Logger } from 'winston';
import { createMongoReadModelStore } from '../adapters/readmodels/mongodb.read-model-store';
import { createSqliteReadModelStore } from '../adapters/readmodels/sqlite.read-model-store';
import { auditRoutes } from '../api/routes/audit.route';
import { pointInTimeRoutes } from '../api/routes/point-in-time.route';
import { eventsSseRoutes } from '../api/routes/events-sse.route';
import { ledgerQueryRoutes } from '../api/routes/queries/ledger.query.route';
import { paymentQueryRoutes } from '../api/routes/queries/payments.query.route';
import { trafficQueryRoutes } from '../api/routes/queries/traffic.query.route';
import type { RouteRegistrar } from '../api/route-kit';
import type { EventStore } from '../domain/ports/event-store.port';
import type { ReadModelStore } from '../domain/ports/read-model-store.port';
import type { ReadSideView } from '../projections/read-side';
import { READ_SIDE_LIMITS } from './config';

/** The read side's composition: its store (MongoDB or the embedded SQLite file), runner and routes. */
export const READ_MODELS_FILE_NAME = 'read-models.sqlite';
const MONGODB_DATABASE = 'ledger_read_models';

type ReadSideConfig = { dataDir: string; mongodbUrl: string | null };

/** `walAutoCheckpointPages`: for the embedded store's writer (see createSqliteReadModelStore). */
export const openReadModelStore = (
  config: ReadSideConfig,
  options: { walAutoCheckpointPages?: number } = {},
): Promise<ReadModelStore> =>
  config.mongodbUrl === null
    ? Promise.resolve(
        createSqliteReadModelStore({
          path: join(config.dataDir, READ_MODELS_FILE_NAME),
          ...options,
        }),
      )
    : createMongoReadModelStore({ url: config.mongodbUrl, databaseName: MONGODB_DATABASE });

export type RunningReadSide = {
  readSide: ReadSideView;
  routes: readonly RouteRegistrar[];
  stop: () => Promise<void>;
};

/** The query, SSE and audit routes over a read side, wherever its runner runs. */
export const readSideRoutes = (
  readSide: ReadSideView,
  eventStore: EventStore,
  logger: Logger,
): RouteRegistrar[] => {
  const queryDeps = { readSide, afterWaitMs: READ_SIDE_LIMITS.afterWaitMs };
  return [
    ledgerQueryRoutes(queryDeps),
    paymentQueryRoutes(queryDeps),
    trafficQueryRoutes(queryDeps),
    eventsSseRoutes({ ...queryDeps, heartbeatMs: READ_SIDE_LIMITS.sseHeartbeatMs }),
    auditRoutes({
      ...queryDeps,
      eventStore,
      exportEventCountMax: READ_SIDE_LIMITS.exportEventCountMax,
      verifyStreamEventCountMax: READ_SIDE_LIMITS.verifyStreamEventCountMax,
      onRebuildError: (error) => logger.error('read_side_rebuild_failed', { error: String(error) }),
    }),
    pointInTimeRoutes({ eventStore }),
  ];
};
