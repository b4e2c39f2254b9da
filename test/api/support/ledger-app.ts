import { createEventStoreReplayGuard } from '../../../adapters/channels/event-store.replay-guard';
import type { ActorRuntime } from '../../../domain/actors/actor-runtime';
import { createResilientGateway } from '../../../adapters/channels/resilient-gateway';
import {
  createSandboxChannelVerifier,
  signSandboxCallback,
  type SandboxCallbackBody,
} from '../../../adapters/channels/sandbox.channel';
import {
  createSandboxChannel,
  type SandboxChannel,
} from '../../../adapters/channels/sandbox.gateway';
import { createSqliteSandboxStore } from '../../../adapters/channels/sqlite.sandbox-store';
import { createSqlitePaymentTicketStore } from '../../../adapters/channels/sqlite.channel-stores';
import { createSqliteEventStore } from '../../../adapters/eventstore/sqlite.event-store';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import type { Governance } from '../../../api/governance';
import type { PersonalDataAccess } from '../../../api/personal-data';
import { subjectRoutes } from '../../../api/routes/subjects.route';
import { accountRoutes } from '../../../api/routes/accounts.route';
import { channelCallbackRoutes } from '../../../api/routes/channel-callbacks.route';
import type { ChannelServices } from '../../../api/routes/payment-payer.route';
import { paymentRoutes } from '../../../api/routes/payments.route';
import {
  reconciliationReportRoutes,
  type RunReconciliationNow,
  reconciliationRoutes,
} from '../../../api/routes/reconciliations.route';
import type { ReconciliationStore } from '../../../domain/ports/reconciliation-store.port';
import { trafficRoutes } from '../../../api/routes/traffic.route';
import { transferBatchRoutes } from '../../../api/routes/transfers-batch.route';
import { transferRoutes } from '../../../api/routes/transfers.route';
import type { ChannelCallbackVerifier } from '../../../domain/ports/channel-callback.port';
import { recordChannelFact, systemContext } from '../../../domain/payment/channel-log.record';
import type { EventStore } from '../../../domain/ports/event-store.port';
import { createLedger } from '../../support/ledger-harness';
import { bearer, createTestApp, type TestApp } from './test-app';

const SANDBOX_SECRET = 'sandbox-secret-for-tests';
/** Test resilience: short timeouts and back-off so that failure paths run in milliseconds. */
const FAST_RESILIENCE = {
  timeoutMs: 500,
  retryCountMax: 3,
  backoffInitialMs: 1,
  backoffMaxMs: 5,
  breakerFailureCountMax: 5,
  breakerHalfOpenAfterMs: 60_000,
};

export type LedgerApp = TestApp & {
  store: EventStore;
  /** The actor runtime behind the API (to play a saga's command, e.g. an expiry). */
  runtime: ActorRuntime;
  channels: ChannelServices;
  /** The in-process sandbox channel; its callbacks go to this app. */
  sandbox: SandboxChannel;
  /** POST with the client's key and a fresh Idempotency-Key unless one is given. */
  post: (
    path: string,
    body: unknown,
    apiKey: string,
    idempotencyKey?: string,
  ) => ReturnType<ReturnType<TestApp['http']>['post']>;
  get: (path: string, apiKey: string) => ReturnType<ReturnType<TestApp['http']>['get']>;
  /** Delivers a sandbox callback signed `ageMs` ago (default now) with `secret`. */
  callback: (
    body: SandboxCallbackBody | Record<string, unknown>,
    options?: { ageMs?: number; secret?: string },
  ) => ReturnType<ReturnType<TestApp['http']>['post']>;
};

let keyCounter = 0;

/** The full command API on a real SQLite event store (:memory:), with the sandbox channel. */
export const createLedgerApp = async (
  options: {
    nowMs?: () => number;
    limits?: { bodyBytesMax?: number };
    verifiers?: readonly ChannelCallbackVerifier[];
    governance?: Governance;
    /** Holder data of accounts, and the erase route (absent: `holder` is refused). */
    personalData?: PersonalDataAccess;
    /** SANDBOX_ENABLED (absent: true): false leaves out the sandbox gateway and callbacks. */
    sandboxEnabled?: boolean;
    /** The daily reconciliation's reports (GET /v1/reconciliations, resolve); absent: none. */
    reconciliationStore?: ReconciliationStore;
    /** POST /v1/reconciliations/runs (with reconciliationStore); absent: not routed. */
    reconciliationRunNow?: RunReconciliationNow;
  } = {},
): Promise<LedgerApp> => {
  const store = createSqliteEventStore({ path: ':memory:' });
  const ledger = createLedger(store);
  const nowMs = options.nowMs ?? Date.now;
  const database = openSqliteDatabase(':memory:');
  let deliverTo: TestApp | null = null;
  const sandbox = createSandboxChannel({
    secret: SANDBOX_SECRET,
    store: createSqliteSandboxStore(database),
    nowMs,
    deliver: async (raw, signature) => {
      const response = await deliverTo
        ?.http()
        .post('/v1/channels/sandbox/callbacks')
        .set('Content-Type', 'application/json')
        .set('Sandbox-Signature', signature)
        .send(raw.toString());
      return response?.status ?? 0;
    },
  });
  const record = (fact: Parameters<Parameters<typeof createResilientGateway>[2]>[0]) =>
    recordChannelFact(
      ledger.runtime,
      fact.paymentId,
      { type: 'ChannelCallRecorded', data: fact },
      systemContext('test', new Date(nowMs()).toISOString()),
    );
  const sandboxEnabled = options.sandboxEnabled ?? true;
  const sandboxGateway = createResilientGateway(sandbox.gateway, FAST_RESILIENCE, record, nowMs);
  const channels: ChannelServices = {
    gateways: new Map(sandboxEnabled ? [['sandbox', sandboxGateway]] : []),
    replayGuard: createEventStoreReplayGuard(store),
    tickets: createSqlitePaymentTicketStore(database),
    eventStore: store,
    sandbox,
    sandboxEnabled,
  };
  const services = {
    runtime: ledger.runtime,
    ledger: ledger.ledger,
    traffic: ledger.traffic,
    channelVerifiers: [
      ...(sandboxEnabled ? [createSandboxChannelVerifier({ secrets: [SANDBOX_SECRET] })] : []),
      ...(options.verifiers ?? []),
    ],
    paymentTtlMs: 15 * 60 * 1000,
    nowMs,
    eventStore: store,
    ...(options.personalData === undefined ? {} : { personalData: options.personalData }),
  };
  const routes = [
    ...[accountRoutes, transferRoutes, transferBatchRoutes, trafficRoutes].map((route) =>
      route(services),
    ),
    paymentRoutes(services, channels),
    channelCallbackRoutes(services, channels),
    reconciliationRoutes(channels),
    ...(options.reconciliationStore === undefined
      ? []
      : [
          reconciliationReportRoutes({
            store: options.reconciliationStore,
            nowMs,
            ...(options.reconciliationRunNow === undefined
              ? {}
              : { runNow: options.reconciliationRunNow }),
          }),
        ]),
    ...(options.personalData === undefined ? [] : [subjectRoutes(options.personalData)]),
  ];
  const app = await createTestApp({
    routes,
    nowMs,
    eventStore: store,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.governance === undefined ? {} : { governance: options.governance }),
  });
  deliverTo = app;
  return {
    ...app,
    store,
    runtime: ledger.runtime,
    channels,
    sandbox,
    post: (path, body, apiKey, idempotencyKey) => {
      keyCounter += 1;
      return app
        .http()
        .post(path)
        .set(bearer(apiKey))
        .set('Idempotency-Key', idempotencyKey ?? `key-${keyCounter}`)
        .send(body as object);
    },
    get: (path, apiKey) => app.http().get(path).set(bearer(apiKey)),
    callback: (body, callbackOptions = {}) => {
      const raw = Buffer.from(JSON.stringify(body));
      const signature = signSandboxCallback(
        callbackOptions.secret ?? SANDBOX_SECRET,
        raw,
        nowMs() - (callbackOptions.ageMs ?? 0),
      );
      return app
        .http()
        .post('/v1/channels/sandbox/callbacks')
        .set('Content-Type', 'application/json')
        .set('Sandbox-Signature', signature)
        .send(raw.toString());
    },
  };
};
