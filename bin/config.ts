import { resolve } from 'node:path';

/** A bad environment variable: the message names it and the rule, never a secret's value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Config = {
  port: number;
  host: string;
  /** Absolute path. */
  dataDir: string;
  /** esdb:// or esdb+discover:// connection string; null = embedded SQLite event store. */
  eventStoreUrl: string | null;
  /** mongodb:// or mongodb+srv:// URL of the read models; null = embedded SQLite read models. */
  mongodbUrl: string | null;
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
};

export type ConfigRow = { name: string; defaultValue: string; meaning: string };

const MIB = 1024 * 1024;
const DAY_MS = 24 * 3600 * 1000;
const BODY_BYTES_RANGE = { min: 1024, max: 64 * MIB };

/** One place for the defaults: loadConfig applies them, describeConfig documents them. */
const DEFAULTS = {
  PORT: 3000,
  HOST: '127.0.0.1',
  DATA_DIR: './data',
  LOG_LEVEL: 'info',
  IDEMPOTENCY_RETENTION_HOURS: 24,
  MAILBOX_DEPTH_MAX: 1000,
  ACTOR_COUNT_MAX: 100_000,
  ACTOR_IDLE_MS_MAX: 300_000,
  SNAPSHOT_EVERY_EVENTS: 1000,
  BODY_BYTES_MAX: MIB,
  TRAFFIC_BODY_BYTES_MAX: 4 * MIB,
} as const satisfies Record<string, string | number>;

const UNSET = '(unset)';

const row = (name: string, defaultValue: string | number, meaning: string): ConfigRow => ({
  name,
  defaultValue: String(defaultValue),
  meaning,
});

/** Every variable, its default and meaning: the README's table comes from here. */
export const describeConfig = (): readonly ConfigRow[] => [
  row('PORT', DEFAULTS.PORT, 'HTTP port (1-65535)'),
  row('HOST', DEFAULTS.HOST, 'interface to listen on'),
  row('DATA_DIR', DEFAULTS.DATA_DIR, 'directory of the embedded stores and the admin key file'),
  row('EVENTSTORE_URL', UNSET, 'esdb:// or esdb+discover:// URL; unset: embedded SQLite'),
  row(
    'MONGODB_URL',
    UNSET,
    'mongodb:// URL (replica set) of the read models; unset: embedded SQLite',
  ),
  row('LOG_LEVEL', DEFAULTS.LOG_LEVEL, LOG_LEVELS.join(', ')),
  row('LEDGER_ADMIN_API_KEY', UNSET, 'admin API key (>= 24 chars); unset: generated, see logs'),
  row('SANDBOX_CALLBACK_SECRET', UNSET, 'sandbox signing secret (>= 16 chars); unset: generated'),
  row('IDEMPOTENCY_RETENTION_HOURS', DEFAULTS.IDEMPOTENCY_RETENTION_HOURS, 'key retention (>= 24)'),
  row('MAILBOX_DEPTH_MAX', DEFAULTS.MAILBOX_DEPTH_MAX, 'commands queued per actor, then 503'),
  row('ACTOR_COUNT_MAX', DEFAULTS.ACTOR_COUNT_MAX, 'actors kept in memory (LRU eviction beyond)'),
  row('ACTOR_IDLE_MS_MAX', DEFAULTS.ACTOR_IDLE_MS_MAX, 'idle time before an actor is evicted'),
  row(
    'SNAPSHOT_EVERY_EVENTS',
    DEFAULTS.SNAPSHOT_EVERY_EVENTS,
    'events between snapshots of an account or traffic shard (0: none)',
  ),
  row('BODY_BYTES_MAX', DEFAULTS.BODY_BYTES_MAX, 'request body limit (1 KiB-64 MiB)'),
  row('TRAFFIC_BODY_BYTES_MAX', DEFAULTS.TRAFFIC_BODY_BYTES_MAX, 'traffic routes body limit'),
];

/** Reads and validates the environment; throws ConfigError on the first bad variable. */
export const loadConfig = (env: NodeJS.ProcessEnv): Config => {
  const read = (name: string): string | null => {
    const value = env[name]?.trim() ?? '';
    return value === '' ? null : value; // An empty variable means unset, as compose files write it.
  };
  return {
    port: integer(read, 'PORT', { min: 1, max: 65535 }),
    host: host(read('HOST') ?? DEFAULTS.HOST),
    dataDir: resolve(read('DATA_DIR') ?? DEFAULTS.DATA_DIR),
    eventStoreUrl: eventStoreUrl(read('EVENTSTORE_URL')),
    mongodbUrl: mongodbUrl(read('MONGODB_URL')),
    logLevel: logLevel(read('LOG_LEVEL') ?? DEFAULTS.LOG_LEVEL),
    adminApiKey: secret(read('LEDGER_ADMIN_API_KEY'), 'LEDGER_ADMIN_API_KEY', 24),
    sandboxCallbackSecret: secret(read('SANDBOX_CALLBACK_SECRET'), 'SANDBOX_CALLBACK_SECRET', 16),
    idempotencyRetentionHours: integer(read, 'IDEMPOTENCY_RETENTION_HOURS', {
      min: 24,
      max: 24 * 366,
    }),
    mailboxDepthMax: integer(read, 'MAILBOX_DEPTH_MAX', { min: 1, max: 1_000_000 }),
    actorCountMax: integer(read, 'ACTOR_COUNT_MAX', { min: 1, max: 10_000_000 }),
    actorIdleMsMax: integer(read, 'ACTOR_IDLE_MS_MAX', { min: 1000, max: DAY_MS }),
    snapshotEveryEvents: integer(read, 'SNAPSHOT_EVERY_EVENTS', { min: 0, max: 10_000_000 }),
    bodyBytesMax: integer(read, 'BODY_BYTES_MAX', BODY_BYTES_RANGE),
    trafficBodyBytesMax: integer(read, 'TRAFFIC_BODY_BYTES_MAX', BODY_BYTES_RANGE),
  };
};

type IntegerVariable = {
  [Name in keyof typeof DEFAULTS]: (typeof DEFAULTS)[Name] extends number ? Name : never;
}[keyof typeof DEFAULTS];

const integer = (
  read: (name: string) => string | null,
  name: IntegerVariable,
  range: { min: number; max: number },
): number => {
  const text = read(name);
  if (text === null) return DEFAULTS[name];
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new ConfigError(`${name} must be an integer ${range.min}-${range.max}, got '${text}'`);
  }
  return value;
};

const host = (text: string): string => {
  if (/\s/.test(text)) {
    throw new ConfigError(`HOST must be a host name or IP address, got '${text}'`);
  }
  return text;
};

/** The URL may carry credentials, so the message does not echo it. */
const eventStoreUrl = (text: string | null): string | null => {
  if (text === null) return null;
  if (!/^esdb(\+discover)?:\/\/\S+$/.test(text)) {
    throw new ConfigError('EVENTSTORE_URL must start with esdb:// or esdb+discover://');
  }
  return text;
};

const logLevel = (text: string): LogLevel => {
  const level = LOG_LEVELS.find((known) => known === text);
  if (level === undefined) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${text}'`);
  }
  return level;
};

const secret = (text: string | null, name: string, charsMin: number): string | null => {
  if (text !== null && text.length < charsMin) {
    throw new ConfigError(`${name} must be at least ${charsMin} characters`);
  }
  return text;
};

const mongodbUrl = (text: string | null): string | null => {
  if (text === null) return null;
  if (!/^mongodb(\+srv)?:\/\/\S+$/.test(text)) {
    throw new ConfigError('MONGODB_URL must be a mongodb:// or mongodb+srv:// URL');
  }
  return text;
};
