import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../bin/config';
import { DEMO_PLANS, loadMessagingConfig } from '../../bin/messaging-config';

const plansFile = (content: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'ledger-plans-')), 'plans.json');
  writeFileSync(path, content);
  return path;
};

const ONE_PLAN = {
  planId: 'p1',
  name: 'One',
  amountMinor: 100,
  currency: 'EUR',
  quotaBytes: 10,
  durationDays: 1,
};

/** The plans loaded from a PLANS_FILE holding `entry` alone. */
const loadPlans = (entry: object) =>
  loadMessagingConfig({ PLANS_FILE: plansFile(JSON.stringify([entry])) }).plans;

describe('loadMessagingConfig', () => {
  it('runs on the in-process bus with the demo plans by default', () => {
    expect(loadMessagingConfig({})).toEqual({ nats: null, plans: DEMO_PLANS });
  });

  it('reads the NATS settings', () => {
    const config = loadMessagingConfig({
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_STREAM_RETENTION: 'interest',
      NATS_STREAM_MAX_AGE_S: '3600',
      NATS_STREAM_REPLICAS: '3',
      NATS_DUPLICATE_WINDOW_S: '60',
    });
    expect(config.nats).toEqual({
      url: 'nats://127.0.0.1:4222',
      streamName: 'LEDGER',
      retention: 'interest',
      maxAgeMs: 3_600_000,
      replicas: 3,
      duplicateWindowMs: 60_000,
    });
  });

  it.each([
    [{ NATS_URL: 'http://nats:4222' }, 'NATS_URL must be a nats:// or tls:// URL'],
    [
      { NATS_URL: 'nats://n', NATS_STREAM_RETENTION: 'forever' },
      'NATS_STREAM_RETENTION must be one of',
    ],
    [
      { NATS_URL: 'nats://n', NATS_STREAM_REPLICAS: '7' },
      'NATS_STREAM_REPLICAS must be an integer 1-5',
    ],
    [
      { NATS_URL: 'nats://n', NATS_STREAM_MAX_AGE_S: 'week' },
      'NATS_STREAM_MAX_AGE_S must be an integer',
    ],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadMessagingConfig(env)).toThrow(ConfigError);
    expect(() => loadMessagingConfig(env)).toThrow(message);
  });

  it('loads plans from PLANS_FILE and refuses bad ones, naming the problem', () => {
    const plan = ONE_PLAN;
    expect(loadMessagingConfig({ PLANS_FILE: plansFile(JSON.stringify([plan])) }).plans).toEqual([
      plan,
    ]);
    expect(() => loadMessagingConfig({ PLANS_FILE: plansFile('[{') })).toThrow(
      'PLANS_FILE must be a readable JSON file',
    );
    expect(() =>
      loadMessagingConfig({
        PLANS_FILE: plansFile(JSON.stringify([{ ...plan, currency: 'XYZ' }])),
      }),
    ).toThrow('unknown currency XYZ');
    expect(() =>
      loadMessagingConfig({ PLANS_FILE: plansFile(JSON.stringify([plan, plan])) }),
    ).toThrow('planIds must be unique');
    expect(() =>
      loadMessagingConfig({ PLANS_FILE: plansFile(JSON.stringify([{ planId: 'x' }])) }),
    ).toThrow("lacks 'name'");
  });

  it('takes a plan level 0-255 and a group id, and refuses others naming the plan', () => {
    const plan = ONE_PLAN;
    expect(loadPlans({ ...plan, level: 255, group: 'asia' })).toEqual([
      { ...plan, level: 255, group: 'asia' },
    ]);
    expect(() => loadPlans({ ...plan, level: 256 })).toThrow('plan p1: level must be 0-255');
    expect(() => loadPlans({ ...plan, level: 1.5 })).toThrow('plan p1: level must be 0-255');
    expect(() => loadPlans({ ...plan, group: 'two words' })).toThrow('plan p1: group must match');
  });

  it('takes a plan of durationSeconds instead of durationDays, and refuses both or neither', () => {
    const { durationDays: _days, ...plan } = ONE_PLAN;
    expect(loadPlans({ ...plan, durationSeconds: 60 })).toEqual([{ ...plan, durationSeconds: 60 }]);
    expect(() => loadPlans(plan)).toThrow('plan p1: durationDays (or durationSeconds) is required');
    expect(() => loadPlans({ ...plan, durationDays: 1, durationSeconds: 60 })).toThrow(
      'plan p1: durationDays and durationSeconds exclude each other',
    );
    expect(() => loadPlans({ ...plan, durationSeconds: 0 })).toThrow(
      'plan p1: durationSeconds must be 1-316224000',
    );
  });
});
