import type { RatePolicy, RateLimitSettings } from '../api/middleware/rate-limit';
import { ConfigError, variableReader, type ReadVariable } from './config-rules';

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
];
