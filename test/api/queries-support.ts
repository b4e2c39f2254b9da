import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import { auditRoutes } from '../../api/routes/audit.route';
import { eventsSseRoutes } from '../../api/routes/events-sse.route';
import { ledgerQueryRoutes } from '../../api/routes/queries/ledger.query.route';
import { paymentQueryRoutes } from '../../api/routes/queries/payments.query.route';
import { trafficQueryRoutes } from '../../api/routes/queries/traffic.query.route';
import type { EventStore } from '../../domain/ports/event-store.port';
import { createReadSide, type ReadSide } from '../../projections/read-side';
import { createLedger, type Ledger } from '../support/ledger-harness';
import { bearer, createTestApp, type TestApp } from './support/test-app';

export type ReadSideApp = TestApp & {
  store: EventStore;
  ledger: Ledger;
  readSide: ReadSide;
  get: (path: string, apiKey: string) => ReturnType<ReturnType<TestApp['http']>['get']>;
  stop: () => Promise<void>;
};

/**
 * The read side's routes (query, audit, SSE) on SQLite :memory: stores; tests write through the
 * ledger's runtime directly, so they do not depend on the command routes' shapes.
 */
export const createReadSideApp = async (
  options: { afterWaitMs?: number } = {},
): Promise<ReadSideApp> => {
  const store = createSqliteEventStore({ path: ':memory:', subscriptionPollMs: 20 });
  const ledger = createLedger(store);
  const readModels = createSqliteReadModelStore({ path: ':memory:' });
  const limits = {
    batchEventCountMax: 256,
    waiterCountMax: 100,
    watcherCountMax: 2,
    lagEventCountMax: 100,
    switchPollMs: 60_000,
  };
  const readSide = createReadSide({
    eventStore: store,
    store: readModels,
    limits,
    nowMs: Date.now,
    onError: () => undefined,
  });
  await readSide.start();
  const queryDeps = { readSide, afterWaitMs: options.afterWaitMs ?? 2000 };
  const routes = [
    ledgerQueryRoutes(queryDeps),
    paymentQueryRoutes(queryDeps),
    trafficQueryRoutes(queryDeps),
    eventsSseRoutes({ ...queryDeps, heartbeatMs: 60_000 }),
    auditRoutes({
      ...queryDeps,
      eventStore: store,
      exportEventCountMax: 100,
      verifyStreamEventCountMax: 1000,
      onRebuildError: () => undefined,
    }),
  ];
  const app = await createTestApp({ routes });
  return {
    ...app,
    store,
    ledger,
    readSide,
    get: (path, apiKey) => app.http().get(path).set(bearer(apiKey)),
    stop: async () => {
      await readSide.stop();
      await readModels.close();
      await store.close();
    },
  };
};
