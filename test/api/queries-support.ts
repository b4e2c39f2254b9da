import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import { auditRoutes } from '../../api/routes/audit.route';
import { eventsSseRoutes } from '../../api/routes/events-sse.route';
import { ledgerQueryRoutes } from '../../api/routes/queries/ledger.query.route';
import { paymentQueryRoutes } from '../../api/routes/queries/payments.query.route';
import { trafficQueryRoutes } from '../../api/routes/queries/traffic.query.route';
import type { EventStore } from '../../domain/ports/event-store.port';
import { MessageChannel } from 'node:worker_threads';
import type { ReadSideView } from '../../projections/read-side';
import {
  createReadSideMirror,
  hostReadSide,
  type FromReadSideHost,
  type ToReadSideHost,
} from '../../projections/read-side-link';
import { createLedger, type Ledger } from '../support/ledger-harness';
import { bearer, createTestApp, type TestApp } from './support/test-app';

export type ReadSideApp = TestApp & {
  store: EventStore;
  ledger: Ledger;
  readSide: ReadSideView;
  get: (path: string, apiKey: string) => ReturnType<ReturnType<TestApp['http']>['get']>;
  stop: () => Promise<void>;
};

/**
 * The read side's routes (query, audit, SSE) on SQLite :memory: stores; tests write through the
 * ledger's runtime directly, so they do not depend on the command routes' shapes. As in the
 * service, the routes read through a mirror that learns of commits over a MessageChannel (every
 * message structured-cloned, as to and from a worker thread); the two ends share the one
 * :memory: store here, where the service opens the file twice.
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
    // As in the service, traffic writes wait for their unit's commit, here longer than any test:
    // a query with ?after= gets its answer only because it asks for the commit (requestCommit).
    unitMsMax: 60_000,
    unitDocumentCountMax: 100_000,
  };
  const channel = new MessageChannel();
  const host = hostReadSide(
    { eventStore: store, store: readModels, limits, nowMs: Date.now, onError: () => undefined },
    {
      post: (message: FromReadSideHost) => channel.port1.postMessage(message),
      onMessage: (listener) => channel.port1.on('message', listener),
    },
  );
  const readSide = createReadSideMirror({
    store: readModels,
    eventStore: store,
    limits,
    nowMs: Date.now,
    link: {
      post: (message: ToReadSideHost) => channel.port2.postMessage(message),
      onMessage: (listener) => channel.port2.on('message', listener),
    },
  });
  const hosted = await host;
  await readSide.ready;
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
  const app = await createTestApp({ routes, eventStore: store });
  return {
    ...app,
    store,
    ledger,
    readSide,
    get: (path, apiKey) => app.http().get(path).set(bearer(apiKey)),
    stop: async () => {
      readSide.close();
      await hosted.stop();
      channel.port1.close();
      await readModels.close();
      await store.close();
    },
  };
};
