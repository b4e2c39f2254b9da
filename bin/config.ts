import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { proxyTrustOf } from '../api/middleware/client-address';
import { isOrigin } from '../api/middleware/cors';
import type { Plan } from '../domain/plan/plan';
import type { ReadSideLimits } from '../projections/read-side';
import { ed25519PrivateKey } from './audit-keys';
import { loadChannelConfig, type ChannelConfig } from './channel-config';
import {
  choiceVariable,
  integerVariable,
  urlVariable,
  variableReader,
  ConfigError,
  type ReadVariable,
} from './config-rules';
import { DEFAULTS, LOG_LEVELS, type LogLevel } from './config-variables';
import { loadMessagingConfig, type NatsSettings } from './messaging-config';
import { loadOAuthConfig, type OAuthConfig } from './oauth-config';
import {
  loadRateLimits,
  loadRateLimitStore,
  type RateLimitStoreSetting,
} from './governance-config';
import type { RateLimitSettings } from '../api/middleware/rate-limit';
import { loadObservabilityConfig, type AlertWebhookConfig } from './observability-config';
import { loadReconciliationConfig, type ReconciliationConfig } from './reconciliation-config';
import type { TracingConfig } from './tracing';

/**
 * The one configuration module: every environment variable (validated by loadConfig, documented
 * by describeConfig, whose rows the README's table must equal) and every fixed limit.
 */
export { ConfigError };
export { describeConfig, type LogLevel } from './config-variables';

export type Config = {
  port: number;
  host: string;
  /** Absolute path. */
  dataDir: string;
  /** esdb:// or esdb+discover:// connection string; null = embedded SQLite event store. */
  eventStoreUrl: string | null;
  /** mongodb:// or mongodb+srv:// URL of the read models; null = embedded SQLite read models. */
  mongodbUrl: string | null;
  /** JetStream settings; null = the in-process bus. */
  nats: NatsSettings | null;
  plans: readonly Plan[];
  logLevel: LogLevel;
  adminApiKey: string | null;
  sandboxCallbackSecret: string | null;
  idempotencyRetentionHours: number;
  mailboxDepthMax: number;
  actorCountMax: number;
  actorIdleMsMax: number;
  /** Events between two snapshots of one account or traffic shard; 0: no snapshots. */
  snapshotEveryEvents: number;
  bodyBytesMax: number;
  trafficBodyBytesMax: number;
  /** How long a stop waits for open connections before it closes them. */
  drainTimeoutMs: number;
  /** A node whose last heartbeat is older than this is marked silent. */
  nodeSilentAfterMs: number;
  /** Payment channels; holds keys: never log or print it. */
  channels: ChannelConfig;
  /** PEM file of the Ed25519 key that signs audit checkpoints; null: generated into dataDir. */
  auditSigningKeyFile: string | null;
  /** The longest wait after a checkpoint before the next (when the log moved); 0: no timer. */
  auditCheckpointIntervalMs: number;
  /** Events appended since the last checkpoint that call for the next one; 0: no count. */
  auditCheckpointEveryEvents: number;
  /** Absolute path of the directory that holds the backups. */
  backupDir: string;
  /** How often the service takes a backup by itself; 0: never (only `ledger backup`). */
  backupIntervalMs: number;
  /** Backups kept; older ones are deleted after each new one. */
  backupKeepCount: number;
  /** HTTPS on `port` from these PEM files (absolute paths); null: plain HTTP. */
  tls: TlsSettings | null;
  /** Strict-Transport-Security max-age on HTTPS answers; 0: no header. */
  hstsMaxAgeS: number;
  /** IPs and CIDRs of the reverse proxies whose X-Forwarded-For/-Proto are believed. */
  trustedProxies: readonly string[];
  webhooks: WebhookConfig;
  /** Access tokens, their signing keys and the security audit trail's retention. */
  oauth: OAuthConfig;
  /** Rate limits per client, IP, hot key and callback, and the failed-authentication limit. */
  rateLimits: RateLimitSettings;
  /** Where the rate-limit counters live: memory, or a store the instances share. */
  rateLimitStore: RateLimitStoreSetting;
  /** OTLP export of traces; off without an endpoint. */
  tracing: TracingConfig;
  /** Security and business alerts posted to a chat webhook; null: none. */
  alertWebhook: AlertWebhookConfig | null;
  /** Origins whose pages may call the payer-facing routes (CORS). */
  corsAllowedOrigins: readonly string[];
  /** The daily reconciliation's schedule (bin/reconciliation.ts). */
  reconciliation: ReconciliationConfig;
};

/** Outbound webhooks to merchants (bin/webhooks.ts). */
export type WebhookConfig = {
  /** IPs or CIDR ranges reachable although private (SSRF allow-list). */
  allowedTargets: readonly string[];
  timeoutMs: number;
  concurrencyMax: number;
  retryBaseMs: number;
  disableAfterMs: number;
};

export type TlsSettings = {
  certFile: string;
  keyFile: string;
  /** A plain HTTP listener that redirects to HTTPS; null: HTTPS only. */
  httpRedirectPort: number | null;
};

const DAY_MS = 24 * 3600 * 1000;
const BODY_BYTES_RANGE = { min: 1024, max: 64 * 1024 * 1024 };

/** Reads and validates the environment; throws ConfigError on the first bad variable. */
export const loadConfig = (env: NodeJS.ProcessEnv): Config => {
  const read = variableReader(env);
  const integer = (name: keyof typeof DEFAULTS, min: number, max: number): number =>
    integerVariable(read, name, Number(DEFAULTS[name]), { min, max });
  const bodyBytes = (name: 'BODY_BYTES_MAX' | 'TRAFFIC_BODY_BYTES_MAX'): number =>
    integer(name, BODY_BYTES_RANGE.min, BODY_BYTES_RANGE.max);
  const host = read('HOST') ?? DEFAULTS.HOST;
  if (/\s/.test(host))
    throw new ConfigError(`HOST must be a host name or IP address, got '${host}'`);
  const messaging = loadMessagingConfig(env);
  const port = integer('PORT', 1, 65535);
  const observability = loadObservabilityConfig(env);
  const dataDir = resolve(read('DATA_DIR') ?? DEFAULTS.DATA_DIR);
  const mongodbUrl = urlVariable(
    read,
    'MONGODB_URL',
    /^mongodb(\+srv)?:\/\/\S+$/,
    'be a mongodb:// or mongodb+srv:// URL',
  );
  return {
    port,
    host,
    dataDir,
    eventStoreUrl: urlVariable(
      read,
      'EVENTSTORE_URL',
      /^esdb(\+discover)?:\/\/\S+$/,
      'start with esdb:// or esdb+discover://',
    ),
    mongodbUrl,
    nats: messaging.nats,
    plans: messaging.plans,
    logLevel: choiceVariable(read, 'LOG_LEVEL', LOG_LEVELS, DEFAULTS.LOG_LEVEL),
    adminApiKey: secret(read, 'LEDGER_ADMIN_API_KEY', 24),
    sandboxCallbackSecret: secret(read, 'SANDBOX_CALLBACK_SECRET', 16),
    idempotencyRetentionHours: integer('IDEMPOTENCY_RETENTION_HOURS', 24, 24 * 366),
    mailboxDepthMax: integer('MAILBOX_DEPTH_MAX', 1, 1_000_000),
    actorCountMax: integer('ACTOR_COUNT_MAX', 1, 10_000_000),
    actorIdleMsMax: integer('ACTOR_IDLE_MS_MAX', 1000, DAY_MS),
    snapshotEveryEvents: integer('SNAPSHOT_EVERY_EVENTS', 0, 10_000_000),
    bodyBytesMax: bodyBytes('BODY_BYTES_MAX'),
    trafficBodyBytesMax: bodyBytes('TRAFFIC_BODY_BYTES_MAX'),
    drainTimeoutMs: integer('DRAIN_TIMEOUT_MS', 100, 600_000),
    nodeSilentAfterMs: integer('NODE_SILENT_AFTER_MS', 1000, DAY_MS),
    channels: loadChannelConfig(env),
    auditSigningKeyFile: auditSigningKeyFile(read),
    auditCheckpointIntervalMs: integer('AUDIT_CHECKPOINT_INTERVAL_MS', 0, DAY_MS),
    auditCheckpointEveryEvents: integer('AUDIT_CHECKPOINT_EVERY_EVENTS', 0, 100_000_000),
    backupDir: resolve(read('BACKUP_DIR') ?? DEFAULTS.BACKUP_DIR),
    backupIntervalMs: backupIntervalMs(integer('BACKUP_INTERVAL_MS', 0, 7 * DAY_MS)),
    backupKeepCount: integer('BACKUP_KEEP', 1, 10_000),
    tls: tlsSettings(read),
    hstsMaxAgeS: integer('HSTS_MAX_AGE_S', 0, (2 * 365 * DAY_MS) / 1000),
    trustedProxies: trustedProxies(read),
    webhooks: {
      allowedTargets: allowedTargets(read),
      timeoutMs: integer('WEBHOOK_TIMEOUT_MS', 100, 60_000),
      concurrencyMax: integer('WEBHOOK_CONCURRENCY_MAX', 1, 256),
      retryBaseMs: integer('WEBHOOK_RETRY_BASE_MS', 100, 3_600_000),
      disableAfterMs: integer('WEBHOOK_DISABLE_AFTER_HOURS', 1, 720) * 3600 * 1000,
    },
    oauth: loadOAuthConfig(read, `http://${host}:${port}`),
    rateLimits: loadRateLimits(env),
    rateLimitStore: loadRateLimitStore(env, dataDir, mongodbUrl),
    tracing: observability.tracing,
    alertWebhook: observability.alertWebhook,
    corsAllowedOrigins: corsAllowedOrigins(read),
    reconciliation: loadReconciliationConfig(read),
  };
};

/** Each entry an IP address, or an address and a prefix length (CIDR). */
const allowedTargets = (read: (name: string) => string | null): readonly string[] => {
  const text = read('WEBHOOK_ALLOWED_TARGETS');
  if (text === null) return [];
  return text.split(',').map((entry) => {
    const target = entry.trim();
    const [address = '', prefix, ...rest] = target.split('/');
    const family = isIP(address);
    const prefixMax = family === 6 ? 128 : 32;
    const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= prefixMax);
    if (family === 0 || !prefixOk || rest.length > 0)
      throw new ConfigError(
        `WEBHOOK_ALLOWED_TARGETS must list IP addresses or CIDR ranges, got '${target}'`,
      );
    return target;
  });
};

const tlsSettings = (read: ReadVariable): TlsSettings | null => {
  const certFile = read('TLS_CERT_FILE');
  const keyFile = read('TLS_KEY_FILE');
  const redirectText = read('HTTP_REDIRECT_PORT');
  if (certFile === null && keyFile === null) {
    if (redirectText !== null)
      throw new ConfigError('HTTP_REDIRECT_PORT needs TLS_CERT_FILE and TLS_KEY_FILE');
    return null;
  }
  if (certFile === null || keyFile === null)
    throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  try {
    createSecureContext({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      `TLS_CERT_FILE/TLS_KEY_FILE: not a usable certificate and key (${reason})`,
    );
  }
  const httpRedirectPort =
    redirectText === null
      ? null
      : integerVariable(read, 'HTTP_REDIRECT_PORT', 0, { min: 1, max: 65535 });
  if (
    httpRedirectPort !== null &&
    httpRedirectPort === integerVariable(read, 'PORT', DEFAULTS.PORT, { min: 1, max: 65535 })
  )
    throw new ConfigError('HTTP_REDIRECT_PORT must differ from PORT');
  return { certFile: resolve(certFile), keyFile: resolve(keyFile), httpRedirectPort };
};

const listVariable = (read: ReadVariable, name: string): string[] =>
  (read(name) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');

const corsAllowedOrigins = (read: ReadVariable): readonly string[] => {
  const origins = listVariable(read, 'CORS_ALLOWED_ORIGINS');
  const bad = origins.find((origin) => !isOrigin(origin));
  if (bad !== undefined)
    throw new ConfigError(
      `CORS_ALLOWED_ORIGINS: '${bad}' is not an origin (scheme://host[:port], no path or trailing slash)`,
    );
  return origins;
};

const trustedProxies = (read: ReadVariable): readonly string[] => {
  const entries = listVariable(read, 'TRUSTED_PROXIES');
  try {
    proxyTrustOf(entries);
  } catch (error: unknown) {
    throw new ConfigError(
      `TRUSTED_PROXIES: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return entries;
};

const BACKUP_INTERVAL_MS_MIN = 60_000;

/** 0 turns the schedule off; anything else must leave a backup time to finish. */
const backupIntervalMs = (intervalMs: number): number => {
  if (intervalMs !== 0 && intervalMs < BACKUP_INTERVAL_MS_MIN)
    throw new ConfigError(
      `BACKUP_INTERVAL_MS must be 0 (off) or at least ${BACKUP_INTERVAL_MS_MIN}, got '${intervalMs}'`,
    );
  return intervalMs;
};

const auditSigningKeyFile = (read: (name: string) => string | null): string | null => {
  const file = read('LEDGER_AUDIT_SIGNING_KEY_FILE');
  if (file === null) return null;
  try {
    ed25519PrivateKey(readFileSync(file, 'utf8'), file);
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`LEDGER_AUDIT_SIGNING_KEY_FILE: ${reason}`);
  }
  return resolve(file);
};

const secret = (
  read: (name: string) => string | null,
  name: string,
  charsMin: number,
): string | null => {
  const text = read(name);
  if (text !== null && text.length < charsMin) {
    throw new ConfigError(`${name} must be at least ${charsMin} characters`);
  }
  return text;
};

/** Limits that are not configuration: fixed by design, named here in one place. */
export const SERVICE_LIMITS = {
  batchCommandCountMax: 512,
  conflictRetryCountMax: 5,
  streamLoadEventCountMax: 1000,
  /**
   * Commands the ledger decides into one append: one full batch request (a request is never
   * split). At most 3 events each, so one append stays well inside the SQLite store's 65,536
   * pending events beside the other actors' appends.
   */
  ledgerBatchCommandCountMax: 8190,
  /** Commands queued at the ledger before it answers 503: a few batches' worth. */
  ledgerMailboxCommandCountMax: 65_536,
  /**
   * Shard commands the traffic writer decides into one append: a report is one per shard it
   * touches (16 at most), so about 32 reports of 1,000 records, a few MB of events per commit.
   */
  trafficBatchCommandCountMax: 512,
  /** Shard commands queued at the traffic writer before it answers 503: about 1,000 reports. */
  trafficMailboxCommandCountMax: 16_384,
  paymentTtlMs: 15 * 60 * 1000,
  deadlineTickMs: 1000,
  /** GET /v1/ready fails while the read side's oldest unapplied event is older than this. */
  readyReadSideLagMsMax: 30_000,
  deadlineTransfersPerTickMax: 1000,
  idempotencyPurgeIntervalMs: 10 * 60 * 1000,
  /**
   * How often nodes' statuses are compared with their heartbeats: a change (online, silent,
   * back) is recorded at most this late.
   */
  nodeSweepTickMs: 1000,
  /** Heartbeats are kept this many silence timeouts (the NATS bucket's TTL), then dropped. */
  nodePresenceTtlSilenceCount: 2,
  /** The NATS JetStream key-value bucket of heartbeats when NATS_URL is set. */
  nodePresenceBucket: 'ledger_node_presence',
  /** How often the TLS certificate and key files are read for a change (one small read each). */
  tlsReloadPollMs: 1000,
  /** Security events are written in batches this often (floods coalesced in between). */
  securityEventFlushIntervalMs: 1000,
  /** Distinct security events queued between flushes; more are counted and dropped. */
  securityEventPendingCountMax: 10_000,
  /** How often events past their retention are deleted. */
  securityEventPruneIntervalMs: 3600 * 1000,
  /** How often signature nonces past the 300 s window are deleted. */
  noncePurgeIntervalMs: 60_000,
  /**
   * After a failed fdatasync of a WAL (fail-stop), how long the process lets the refused requests'
   * 503 answers go out before it exits.
   */
  walSyncFailureExitDelayMs: 500,
};

/** Relay, bus consumers, saga engine, sweeper, catalogue and audit trail. */
export const MESSAGING_LIMITS = {
  relayWindowEventCountMax: 512,
  relayCheckpointIntervalMs: 1000,
  retryPauseMs: 500,
  fetchBatchMax: 64,
  fetchExpiresMs: 1000,
  /** A NATS publish not acknowledged by the stream within this time fails and is retried. */
  publishAckTimeoutMs: 5000,
  ackWaitMs: 30_000,
  deliveryCountMax: 8,
  backoffMs: [100, 500, 2000, 5000, 15_000],
  stepAttemptCountMax: 6,
  retryBaseMs: 200,
  retryMaxMs: 60_000,
  driveStepCountMax: 32,
  sweepGraceMs: 5000,
  sweepTickMs: 1000,
  sweepSagasPerTickMax: 200,
  /** A refund's channel answer is queried 2 s after the request at the earliest, then with back-off. */
  refundResultQueryMinMs: 2000,
  refundResultQueryMaxMs: 5 * 60 * 1000,
  refundResultTimeoutMs: 24 * 3600 * 1000,
  finalSagaCountMax: 100_000,
  auditRecordCountMax: 10_000,
  auditReportInFlightMax: 256,
  inProcessRetainedMessageCountMax: 100_000,
};
export type MessagingLimits = typeof MESSAGING_LIMITS;

/** Webhook delivery: the fixed part of the retry policy and the bounds of the worker and API. */
export const WEBHOOK_LIMITS = {
  retryDelayMsMax: 6 * 3600 * 1000,
  /** A delivery is tried for 3 days after it was created (or resent), then it has failed. */
  retryWindowMs: 3 * DAY_MS,
  /** How often due deliveries are looked for (besides the wake after each new one). */
  tickMs: 1000,
  endpointCountMax: 16,
  attemptCountMax: 100,
  responseBytesMax: 4096,
  checkpointIntervalMs: 1000,
  retryPauseMs: 500,
  /** Payments whose folded state the fan-out keeps, so the next event of one needs no read. */
  paymentStateCountMax: 10_000,
};

/** The channel side's periodic work. */
export const CHANNEL_LIMITS = { purgeIntervalMs: 60_000, sandboxFlushIntervalMs: 1000 };

/** The daily reconciliation (bin/reconciliation.ts). */
export const RECONCILIATION_LIMITS = {
  /** How often the schedule looks for a due day: a run starts at most this long after its time. */
  tickMs: 30_000,
  /** Days a service that was down catches up at start, the most recent ones. */
  catchUpDayCountMax: 31,
  /** A run that failed (statement or store unreachable) is tried again after this pause. */
  retryPauseMs: 15 * 60_000,
  pageEventCountMax: 1000,
  /** Bound on downloading one day's statement from a channel. */
  statementTimeoutMs: 120_000,
};

/** WAL checkpoints of the service's SQLite files, from their own thread (see checkpoint.worker). */
export const CHECKPOINT_LIMITS = {
  /** How often the thread reads each file's WAL frame counts (a NOOP checkpoint: copies nothing). */
  pollMs: 100,
  /**
   * A file with frames to copy is checkpointed this long after its last checkpoint: a longer
   * interval copies a hot page once for more commits (bin/checkpoint-policy.ts).
   */
  intervalMs: 1000,
  /** ...or at once when this many frames wait (16 MB of 4 kB pages): the WAL's bound in a burst. */
  walPagesMax: 4096,
  /**
   * Writers still checkpoint by themselves once their WAL holds this many pages (about 80 MB of
   * 4 kB pages): only if the checkpoint thread is dead or far behind.
   */
  writerAutoCheckpointPages: 20_000,
  restartPauseMs: 1000,
  stopGraceMs: 5000,
};

/** The read side: runner batches and caches, query waits, exports, SSE. */
export const READ_SIDE_LIMITS: ReadSideLimits & {
  afterWaitMs: number;
  exportEventCountMax: number;
  verifyStreamEventCountMax: number;
  sseHeartbeatMs: number;
  workerRestartPauseMs: number;
  workerStopGraceMs: number;
} = {
  // Catch-up and rebuild pages: a batch rewrites the index pages it touches once, so larger
  // batches write far less (1,000 → 5,000 cut the CPU per event by a third); live batches are
  // whatever arrived meanwhile, usually much smaller.
  batchEventCountMax: 5000,
  // Traffic users are read back by the next unit: a larger cache spares a store read and parse
  // per user per unit (fold bench over 100,000 users, batches of 200: 17.8 µs per record with
  // 20,000, 14.3 with 120,000). 50,000 is the middle: a flat traffic document is a few hundred
  // bytes of heap, an account's a few kB, so the cache stays under about 150 MB.
  cachedDocumentCountMax: 50_000,
  // Traffic users (and the audit trail's heads) are written at most once per 5 s however many
  // reports changed them; a unit holding 100,000 such documents commits at once (its memory
  // bound). Any other write, and a query waiting for a position (`?after=`), commits at once.
  // Coalescing needs a user to be reported several times per interval: 1 s gave 25.9 µs per
  // record in the fold bench, 5 s 14.3.
  unitMsMax: 5000,
  unitDocumentCountMax: 100_000,
  // Under a load of small commits (callbacks at 500/s: about 60 batches of 30 events a second)
  // live batches start at least this far apart, so each read-model commit writes its hot pages
  // once for more events; an idle read side still starts a batch at once.
  liveBatchGapMs: 20,
  waiterCountMax: 10_000,
  watcherCountMax: 10_000,
  lagEventCountMax: 10_000,
  switchPollMs: 1000,
  afterWaitMs: 2000,
  exportEventCountMax: 10_000,
  verifyStreamEventCountMax: 1_000_000,
  sseHeartbeatMs: 15_000,
  /** A read-side worker that died is started again after this pause (from its checkpoint). */
  workerRestartPauseMs: 1000,
  /** How long a stop lets the read-side worker finish its batch before terminating it. */
  workerStopGraceMs: 5000,
};
