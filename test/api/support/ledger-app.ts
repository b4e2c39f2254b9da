import { createSandboxChannelVerifier, signSandboxCallback, type SandboxCallbackBody } from '../../../adapters/channels/sandbox.channel';
import { createSqliteEventStore } from '../../../adapters/eventstore/sqlite.event-store';
import { accountRoutes } from '../../../api/routes/accounts.route';
import { channelCallbackRoutes } from '../../../api/routes/channel-callbacks.route';
import { paymentRoutes } from '../../../api/routes/payments.route';
import { trafficRoutes } from '../../../api/routes/traffic.route';
import { transferRoutes } from '../../../api/routes/transfers.route';
import type { EventStore } from '../../../domain/ports/event-store.port';
import { createLedger } from '../../support/ledger-harness';
import { bearer, createTestApp, type TestApp } from './test-app';

export const SANDBOX_SECRET = 'sandbox-secret-for-tests';

export type LedgerApp = TestApp & {
  store: EventStore;
  /** POST with the client's key and a fresh Idempotency-Key unless one is given. */
  post: (path: string, body: unknown, apiKey: string, idempotencyKey?: string) => ReturnType<ReturnType<TestApp['http']>['post']>;
  get: (path: string, apiKey: string) => ReturnType<ReturnType<TestApp['http']>['get']>;
  /** Delivers a sandbox callback signed `ageMs` ago (default now) with `secret`. */
  callback: (body: SandboxCallbackBody | Record<string, unknown>, options?: { ageMs?: number; secret?: string }) => ReturnType<ReturnType<TestApp['http']>['post']>;
};

let keyCounter = 0;

/** The full command API on a real SQLite event store (:memory:), with the sandbox channel. */
export const createLedgerApp = async (options: { nowMs?: () => number; limits?: { bodyBytesMax?: number } } = {}): Promise<LedgerApp> => {
  const store = createSqliteEventStore({ path: ':memory:' });
  const ledger = createLedger(store);
  const nowMs = options.nowMs ?? Date.now;
  const services = {
    runtime: ledger.runtime,
    transfers: ledger.transfers,
    channelVerifiers: [createSandboxChannelVerifier({ secrets: [SANDBOX_SECRET] })],
    paymentTtlMs: 15 * 60 * 1000,
    nowMs,
  };
  const routes = [accountRoutes, transferRoutes, paymentRoutes, trafficRoutes, channelCallbackRoutes].map((route) => route(services));
  const app = await createTestApp({ routes, nowMs, ...(options.limits === undefined ? {} : { limits: options.limits }) });
  return {
    ...app,
    store,
    post: (path, body, apiKey, idempotencyKey) => {
      keyCounter += 1;
      return app.http().post(path).set(bearer(apiKey)).set('Idempotency-Key', idempotencyKey ?? `key-${keyCounter}`).send(body as object);
    },
    get: (path, apiKey) => app.http().get(path).set(bearer(apiKey)),
    callback: (body, callbackOptions = {}) => {
      const raw = Buffer.from(JSON.stringify(body));
      const signature = signSandboxCallback(callbackOptions.secret ?? SANDBOX_SECRET, raw, nowMs() - (callbackOptions.ageMs ?? 0));
      return app.http().post('/v1/channels/sandbox/callbacks').set('Content-Type', 'application/json').set('Sandbox-Signature', signature).send(raw.toString());
    },
  };
};
