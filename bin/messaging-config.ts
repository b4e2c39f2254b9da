import { readFileSync } from 'node:fs';
import type { Plan } from '../domain/plan/plan';
import { planProblem } from '../domain/plan/plan';
import { ConfigError } from './config';
import type { NatsSettings } from './messaging';

/**
 * NATS and plan settings, validated at start like bin/config.ts (a bad value names its variable).
 * Without NATS_URL the sagas run on the in-process bus; without PLANS_FILE the demo plans apply.
 */
export type MessagingConfig = { nats: NatsSettings | null; plans: readonly Plan[] };

const GIB = 1024 ** 3;
export const DEMO_PLANS: readonly Plan[] = [
  {
    planId: 'basic-monthly',
    name: 'Basic: 100 GiB for 30 days',
    amountMinor: 999,
    currency: 'EUR',
    quotaBytes: 100 * GIB,
    durationDays: 30,
  },
  {
    planId: 'pro-monthly',
    name: 'Pro: 1 TiB for 30 days',
    amountMinor: 2999,
    currency: 'EUR',
    quotaBytes: 1024 * GIB,
    durationDays: 30,
  },
];
const RETENTIONS = ['limits', 'interest', 'workqueue'] as const;
const DEFAULTS = {
  NATS_STREAM_MAX_AGE_S: 7 * 24 * 3600,
  NATS_STREAM_REPLICAS: 1,
  NATS_DUPLICATE_WINDOW_S: 120,
};

const integer = (
  env: NodeJS.ProcessEnv,
  name: keyof typeof DEFAULTS,
  min: number,
  max: number,
): number => {
  const text = env[name]?.trim() ?? '';
  if (text === '') return DEFAULTS[name];
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be an integer ${min}-${max}, got '${text}'`);
  return value;
};

const natsSettings = (env: NodeJS.ProcessEnv): NatsSettings | null => {
  const url = env['NATS_URL']?.trim() ?? '';
  if (url === '') return null;
  if (!/^(nats|tls):\/\/\S+$/.test(url))
    throw new ConfigError('NATS_URL must be a nats:// or tls:// URL');
  const retentionText = env['NATS_STREAM_RETENTION']?.trim() || 'limits';
  const retention = RETENTIONS.find((known) => known === retentionText);
  if (retention === undefined)
    throw new ConfigError(
      `NATS_STREAM_RETENTION must be one of ${RETENTIONS.join(', ')}, got '${retentionText}'`,
    );
  return {
    url,
    streamName: 'LEDGER',
    retention,
    maxAgeMs: integer(env, 'NATS_STREAM_MAX_AGE_S', 60, 10 * 365 * 24 * 3600) * 1000,
    replicas: integer(env, 'NATS_STREAM_REPLICAS', 1, 5),
    duplicateWindowMs: integer(env, 'NATS_DUPLICATE_WINDOW_S', 1, 24 * 3600) * 1000,
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
    const fields = [
      'planId',
      'name',
      'amountMinor',
      'currency',
      'quotaBytes',
      'durationDays',
    ] as const;
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

export const loadMessagingConfig = (env: NodeJS.ProcessEnv): MessagingConfig => {
  const plansFile = env['PLANS_FILE']?.trim() ?? '';
  return { nats: natsSettings(env), plans: plansFile === '' ? DEMO_PLANS : plansFrom(plansFile) };
};
