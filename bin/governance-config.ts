import { join, resolve } from 'node:path';
import type { RateLimitSettings } from '../api/middleware/rate-limit';
import type { RatePolicy } from '../domain/ports/rate-limit-store.port';
import { choiceVariable, ConfigError, variableReader, type ReadVariable } from './config-rules';

/**
 * The rate limits, the governance part of bin/config.ts. Each limit is `<requests>/<window>s`
 * (a fixed window per key) or `off`.
 */
const GOVERNANCE_DEFAULTS = {
  RATE_LIMIT_CLIENT: '300/1s',
  RATE_LIMIT_IP: '1000/1s',
  RATE_LIMIT_HOT_KEY: '200/1s',
  RATE_LIMIT_CALLBACK: '5000/1s',
  AUTH_FAILURE_LIMIT: '10/300s',
} as const;

type GovernanceVariable = keyof typeof GOVERNANCE_DEFAULTS;

const RATE_LIMIT_STORES = ['memory', 'sqlite', 'mongodb'] as const;
const RATE_LIMIT_SQLITE_FILE_NAME = 'rate-limits.sqlite';

/** Where the rate-limit counters live (bin/rate-limit-store.ts builds it). */
export type RateLimitStoreSetting =
  | { kind: 'memory' }
  /** Absolute path of the SQLite file every instance on the host opens. */
  | { kind: 'sqlite'; path: string }
  /** The MONGODB_URL deployment, collection `rate_limits`. */
  | { kind: 'mongodb'; url: string };

export const loadRateLimitStore = (
  env: NodeJS.ProcessEnv,
  dataDir: string,
  mongodbUrl: string | null,
): RateLimitStoreSetting => {
  const read = variableReader(env);
  const kind = choiceVariable(read, 'RATE_LIMIT_STORE', RATE_LIMIT_STORES, 'memory');
  const sqliteFile = read('RATE_LIMIT_SQLITE_FILE');
  if (sqliteFile !== null && kind !== 'sqlite')
    throw new ConfigError(
      `RATE_LIMIT_SQLITE_FILE is set but RATE_LIMIT_STORE is '${kind}', not sqlite`,
    );
  switch (kind) {
    case 'memory':
      return { kind };
    case 'sqlite':
      return {
        kind,
        path:
          sqliteFile === null ? join(dataDir, RATE_LIMIT_SQLITE_FILE_NAME) : resolve(sqliteFile),
      };
    case 'mongodb':
      if (mongodbUrl === null)
        throw new ConfigError('RATE_LIMIT_STORE=mongodb needs MONGODB_URL (the counters go there)');
      return { kind, url: mongodbUrl };
  }
};

const POLICY_PATTERN = /^(\d{1,9})\/(\d{1,6})s$/;
const WINDOW_S_MAX = 86_400;

const policyVariable = (read: ReadVariable, name: GovernanceVariable): RatePolicy | null => {
  const text = read(name) ?? GOVERNANCE_DEFAULTS[name];
  if (text === 'off') return null;
  const match = POLICY_PATTERN.exec(text);
  const requests = Number(match?.[1]);
  const windowS = Number(match?.[2]);
  if (match === null || requests < 1 || windowS < 1 || windowS > WINDOW_S_MAX) {
    throw new ConfigError(
      `${name} must be <requests>/<seconds>s (requests >= 1, 1-${WINDOW_S_MAX} s) or off, got '${text}'`,
    );
  }
  return { requests, windowS };
};

export const loadRateLimits = (env: NodeJS.ProcessEnv): RateLimitSettings => {
  const read = variableReader(env);
  return {
    client: policyVariable(read, 'RATE_LIMIT_CLIENT'),
    ip: policyVariable(read, 'RATE_LIMIT_IP'),
    hotKey: policyVariable(read, 'RATE_LIMIT_HOT_KEY'),
    callback: policyVariable(read, 'RATE_LIMIT_CALLBACK'),
    authFailures: policyVariable(read, 'AUTH_FAILURE_LIMIT'),
  };
};

type ConfigRow = { name: string; defaultValue: string; meaning: string };

/** describeConfig's rows for these variables, in the README's order. */
export const GOVERNANCE_ROWS: readonly ConfigRow[] = [
  {
    name: 'RATE_LIMIT_CLIENT',
    defaultValue: GOVERNANCE_DEFAULTS.RATE_LIMIT_CLIENT,
    meaning: 'requests per authenticated client: `<requests>/<seconds>s` or `off`; beyond, 429',
  },
  {
    name: 'RATE_LIMIT_IP',
    defaultValue: GOVERNANCE_DEFAULTS.RATE_LIMIT_IP,
    meaning: 'requests per source IP, before authentication, on every route',
  },
  {
    name: 'RATE_LIMIT_HOT_KEY',
    defaultValue: GOVERNANCE_DEFAULTS.RATE_LIMIT_HOT_KEY,
    meaning: 'transfers into one credited account (the hot key), whoever sends them',
  },
  {
    name: 'RATE_LIMIT_CALLBACK',
    defaultValue: GOVERNANCE_DEFAULTS.RATE_LIMIT_CALLBACK,
    meaning: "channel callbacks per channel and source IP (refused in the channel's own format)",
  },
  {
    name: 'AUTH_FAILURE_LIMIT',
    defaultValue: GOVERNANCE_DEFAULTS.AUTH_FAILURE_LIMIT,
    meaning:
      'failed authentications per IP and per client id; past it, 429 until the window ends, even with a correct key',
  },
  {
    name: 'RATE_LIMIT_STORE',
    defaultValue: 'memory',
    meaning:
      'where the limit counters live: `memory` (per instance), `sqlite` (one file shared by the instances of one host), `mongodb` (shared by every instance, in `MONGODB_URL`); a failing shared store falls back to memory per instance, never to an error',
  },
  {
    name: 'RATE_LIMIT_SQLITE_FILE',
    defaultValue: '(unset)',
    meaning:
      'with `RATE_LIMIT_STORE=sqlite`: the counters file every instance opens (local disk, not a network share); unset: `DATA_DIR/rate-limits.sqlite`',
  },
];
