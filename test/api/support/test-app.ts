import type { Drain } from '../../../api/drain';
import type { ReadinessCheck } from '../../../api/routes/health.route';
import type { RequestListener } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createSqliteClientStore } from '../../../adapters/clients/sqlite.client-store';
import { createSqliteIdempotencyStore } from '../../../adapters/idempotency/sqlite.idempotency-store';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import { createApp } from '../../../api/app';
import type { AppLimits, RouteRegistrar } from '../../../api/route-kit';
import { startApiGovernance } from '../../../bin/api-governance';
import type { Governance } from '../../../api/governance';
import { trailSecurity, type SecurityPort } from '../../../api/security-port';
import { createLogger } from '../../../bin/logger';
import type { OAuthConfig } from '../../../bin/oauth-config';
import type { GrantStore } from '../../../domain/ports/grant-store.port';
import type { SecurityEventStore } from '../../../domain/ports/security-event.port';
import type { TokenService } from '../../../domain/ports/token.port';
import type { SecurityRecorder } from '../../../api/security/security-recorder';
import { generateApiKey, hashApiKey } from '../../../domain/ports/client-store.port';
import type { Mode } from '../../../domain/mode/mode';
import type { ClientRole, ClientStore } from '../../../domain/ports/client-store.port';
import type { EventStore } from '../../../domain/ports/event-store.port';
import type { IdempotencyStore } from '../../../domain/ports/idempotency-store.port';

export type LogLine = Record<string, unknown> & { level: string; message: string };

export type TestApp = {
  http: () => ReturnType<typeof request>;
  /** The Koa app itself: its routers are read by the OpenAPI test. */
  app: ReturnType<typeof createApp>;
  /** The app's request listener, for tests that need a raw node:http client. */
  listener: RequestListener;
  clientStore: ClientStore;
  idempotencyStore: IdempotencyStore;
  grantStore: GrantStore;
  tokens: TokenService;
  securityEvents: { store: SecurityEventStore; recorder: SecurityRecorder };
  /** The app's DATA_DIR (a temp dir): the token key ring lives there. */
  dataDir: string;
  /** Every JSON log line written so far, parsed. */
  logs: () => LogLine[];
  /** The raw log output, to check that nothing secret was written. */
  logText: () => string;
  /** API keys of pre-registered clients: admin, merchant, merchant2, auditor (all test mode). */
  keys: Record<'admin' | 'merchant' | 'merchant2' | 'auditor', string>;
  /** Registers another client (test mode unless told) and returns its key. */
  addClient: (clientId: string, role: ClientRole, mode?: Mode) => Promise<string>;
};

/** What tokens of test apps carry: iss, aud and lifetime. */
const TEST_OAUTH: OAuthConfig = {
  issuer: 'http://ledger.test',
  audience: 'ledger-api',
  tokenTtlS: 900,
  keyOverlapS: 3600,
  signingKeyFile: null,
  securityEventRetentionDays: 365,
};

const DEFAULT_LIMITS: AppLimits = {
  bodyBytesMax: 1024 * 1024,
  trafficBodyBytesMax: 4 * 1024 * 1024,
};

/** The real app on SQLite :memory: stores, a capturing logger and routes under test. */
export const createTestApp = async (
  options: {
    routes?: readonly RouteRegistrar[];
    limits?: Partial<AppLimits>;
    bootId?: string;
    /** Another app's stores and clients: a second process on the same files. */
    sharing?: TestApp;
    nowMs?: () => number;
    /** Where the ledger's Idempotency-Key records are read (absent: none are ever stored). */
    eventStore?: Pick<EventStore, 'readIdempotencyRecord'>;
    /** GET /v1/ready's checks and the stop's drain (absent: always ready, never draining). */
    readiness?: readonly ReadinessCheck[];
    drain?: Drain;
    oauth?: Partial<OAuthConfig>;
    /**
     * Rate limits and signing (absent: neither, as before #15); with `security`, the app's one
     * security port (absent: the real trail in `securityEvents`).
     */
    governance?: Governance & { security?: SecurityPort };
  } = {},
): Promise<TestApp> => {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger('debug', { stream });
  const database = openSqliteDatabase(':memory:');
  const clientStore = options.sharing?.clientStore ?? createSqliteClientStore(database);
  const idempotencyStore =
    options.sharing?.idempotencyStore ?? createSqliteIdempotencyStore(database);
  const addClient = async (
    clientId: string,
    role: ClientRole,
    mode: Mode = 'test',
  ): Promise<string> => {
    const apiKey = generateApiKey(mode);
    const createdAt = '2025-01-31T12:00:00.000Z';
    await clientStore.put({
      clientId,
      role,
      mode,
      keyHash: hashApiKey(apiKey),
      createdAt,
      revokedAt: null,
    });
    return apiKey;
  };
  const keys = options.sharing?.keys ?? {
    admin: await addClient('admin', 'admin'),
    merchant: await addClient('merchant', 'merchant'),
    merchant2: await addClient('merchant2', 'merchant'),
    auditor: await addClient('auditor', 'auditor'),
  };
  const dataDir = options.sharing?.dataDir ?? mkdtempSync(join(tmpdir(), 'ledger-test-app-'));
  const governance = startApiGovernance({
    database,
    dataDir,
    oauth: { ...TEST_OAUTH, ...options.oauth },
    logger,
    nowMs: options.nowMs ?? Date.now,
  });
  const app = createApp({
    logger,
    clientStore,
    grantStore: options.sharing?.grantStore ?? governance.grantStore,
    tokens: governance.tokens,
    securityEventStore: governance.securityEvents.store,
    security: options.governance?.security ?? trailSecurity(governance.securityEvents.recorder),
    idempotencyStore,
    readIdempotencyRecord: (scope, key) =>
      options.eventStore?.readIdempotencyRecord(scope, key) ?? Promise.resolve(null),
    bootId: options.bootId ?? 'boot-test',
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    routes: options.routes ?? [],
    ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }),
    ...(options.readiness === undefined ? {} : { readiness: options.readiness }),
    ...(options.drain === undefined ? {} : { drain: options.drain }),
    ...(options.governance === undefined ? {} : { governance: options.governance }),
  });
  const logText = (): string => chunks.join('');
  const logs = (): LogLine[] =>
    logText()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as LogLine);
  const callback = app.callback();
  return {
    http: () => request(callback),
    app,
    listener: callback,
    clientStore,
    idempotencyStore,
    grantStore: options.sharing?.grantStore ?? governance.grantStore,
    tokens: governance.tokens,
    securityEvents: governance.securityEvents,
    dataDir,
    logs,
    logText,
    keys,
    addClient,
  };
};

/** A promise resolved from outside: lets a test hold a handler mid-flight. */
export const deferred = <T = void>(): { promise: Promise<T>; resolve: (value: T) => void } => {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
};

export const bearer = (apiKey: string): Record<string, string> => ({
  Authorization: `Bearer ${apiKey}`,
});
