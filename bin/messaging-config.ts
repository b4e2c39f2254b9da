import { readFileSync } from 'node:fs';
import type { Plan } from '../domain/plan/plan';
import { planProblem } from '../domain/plan/plan';
import {
  choiceVariable,
  ConfigError,
  integerVariable,
  urlVariable,
  variableReader,
  type ReadVariable,
} from './config-rules';

/** NATS settings; null = the in-process bus. */
export type NatsSettings = {
  url: string;
  streamName: string;
  retention: 'limits' | 'interest' | 'workqueue';
  maxAgeMs: number;
  replicas: number;
  duplicateWindowMs: number;
};

/**
 * NATS and plan settings, the messaging part of bin/config.ts (which documents their variables).
 * Without NATS_URL the sagas run on the in-process bus; without PLANS_FILE the demo plans apply.
 */
type MessagingConfig = { nats: NatsSettings | null; plans: readonly Plan[] };

const GIB = 1024 ** 3;
export const DEMO_PLANS: readonly Plan[] = [
  {
    planId: 'basic-monthly',
    name: 'Basic: 100 GiB for 30 days',
    amountMinor: 999,
    currency: 'EUR',
    quotaBytes: 100 * GIB,
    durationDays: 30,
    level: 1,
  },
  {
    planId: 'pro-monthly',
    name: 'Pro: 1 TiB for 30 days',
    amountMinor: 2999,
    currency: 'EUR',
    quotaBytes: 1024 * GIB,
    durationDays: 30,
    level: 2,
  },
];
const RETENTIONS = ['limits', 'interest', 'workqueue'] as const;
/** Documented by describeConfig in bin/config.ts. */
export const MESSAGING_DEFAULTS = {
  NATS_STREAM_RETENTION: 'limits',
  NATS_STREAM_MAX_AGE_S: 7 * 24 * 3600,
  NATS_STREAM_REPLICAS: 1,
  NATS_DUPLICATE_WINDOW_S: 120,
} as const;

const natsSettings = (read: ReadVariable): NatsSettings | null => {
  const url = urlVariable(read, 'NATS_URL', /^(nats|tls):\/\/\S+$/, 'be a nats:// or tls:// URL');
  if (url === null) return null;
  const seconds = (name: keyof typeof MESSAGING_DEFAULTS, min: number, max: number): number =>
    integerVariable(read, name, Number(MESSAGING_DEFAULTS[name]), { min, max });
  return {
    url,
    streamName: 'LEDGER',
    retention: choiceVariable(
      read,
      'NATS_STREAM_RETENTION',
      RETENTIONS,
      MESSAGING_DEFAULTS.NATS_STREAM_RETENTION,
    ),
    maxAgeMs: seconds('NATS_STREAM_MAX_AGE_S', 60, 10 * 365 * 24 * 3600) * 1000,
    replicas: seconds('NATS_STREAM_REPLICAS', 1, 5),
    duplicateWindowMs: seconds('NATS_DUPLICATE_WINDOW_S', 1, 24 * 3600) * 1000,
  };
};

const plansFrom = (path: string): readonly Plan[] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error: unknown) {
    throw new ConfigError(
      `PLANS_FILE must be a readable JSON file: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new ConfigError('PLANS_FILE must hold a non-empty JSON array of plans');
  const plans = parsed.map((entry: unknown): Plan => {
    const plan = entry as Plan;
    // durationDays or durationSeconds: planProblem names the one missing.
    const fields = ['planId', 'name', 'amountMinor', 'currency', 'quotaBytes'] as const;
    const missing = fields.find(
      (field) => typeof entry !== 'object' || entry === null || !(field in entry),
    );
    if (missing !== undefined) throw new ConfigError(`PLANS_FILE: a plan lacks '${missing}'`);
    const problem = planProblem(plan);
    if (problem !== null) throw new ConfigError(`PLANS_FILE: ${problem}`);
    return plan;
  });
  const ids = new Set(plans.map((plan) => plan.planId));
  if (ids.size !== plans.length) throw new ConfigError('PLANS_FILE: planIds must be unique');
  return plans;
};

/** Called by loadConfig (bin/config.ts); throws ConfigError naming the first bad variable. */
export const loadMessagingConfig = (env: NodeJS.ProcessEnv): MessagingConfig => {
  const read = variableReader(env);
  const plansFile = read('PLANS_FILE');
  return {
    nats: natsSettings(read),
    plans: plansFile === null ? DEMO_PLANS : plansFrom(plansFile),
  };
};
