import { resolve } from 'node:path';
import { ConfigError, describeConfig, loadConfig } from '../../bin/config';

const expectConfigError = (env: NodeJS.ProcessEnv, message: string | RegExp): void => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
};

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      dataDir: resolve('./data'),
      eventStoreUrl: null,
      mongodbUrl: null,
      logLevel: 'info',
      adminApiKey: null,
      sandboxCallbackSecret: null,
      idempotencyRetentionHours: 24,
      mailboxDepthMax: 1000,
      actorCountMax: 100_000,
      actorIdleMsMax: 300_000,
      snapshotEveryEvents: 1000,
      bodyBytesMax: 1_048_576,
      trafficBodyBytesMax: 4_194_304,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATA_DIR: '/var/lib/ledger',
      EVENTSTORE_URL: 'esdb+discover://cluster.local:2113?tls=true',
      MONGODB_URL: 'mongodb://db-1:27017,db-2:27017/ledger?replicaSet=rs0',
      LOG_LEVEL: 'debug',
      LEDGER_ADMIN_API_KEY: 'a'.repeat(24),
      SANDBOX_CALLBACK_SECRET: 's'.repeat(16),
      IDEMPOTENCY_RETENTION_HOURS: '48',
      MAILBOX_DEPTH_MAX: '10',
      ACTOR_COUNT_MAX: '20',
      ACTOR_IDLE_MS_MAX: '1000',
      SNAPSHOT_EVERY_EVENTS: '0',
      BODY_BYTES_MAX: '2048',
      TRAFFIC_BODY_BYTES_MAX: '4096',
    });
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: '/var/lib/ledger',
      eventStoreUrl: 'esdb+discover://cluster.local:2113?tls=true',
      mongodbUrl: 'mongodb://db-1:27017,db-2:27017/ledger?replicaSet=rs0',
      logLevel: 'debug',
      adminApiKey: 'a'.repeat(24),
      sandboxCallbackSecret: 's'.repeat(16),
      idempotencyRetentionHours: 48,
      mailboxDepthMax: 10,
      actorCountMax: 20,
      actorIdleMsMax: 1000,
      snapshotEveryEvents: 0,
      bodyBytesMax: 2048,
      trafficBodyBytesMax: 4096,
    });
  });

  it('refuses a MONGODB_URL that is not a mongodb URL, without echoing it', () => {
    expectConfigError(
      { MONGODB_URL: 'http://user:pw@db:27017' },
      'MONGODB_URL must be a mongodb:// or mongodb+srv:// URL',
    );
    expect(() => loadConfig({ MONGODB_URL: 'http://user:pw@db:27017' })).not.toThrow(/pw/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', EVENTSTORE_URL: ' ' })).toMatchObject({
      port: 3000,
      eventStoreUrl: null,
    });
  });

  it.each([
    ['PORT', 'abc', "PORT must be an integer 1-65535, got 'abc'"],
    ['PORT', '0', "PORT must be an integer 1-65535, got '0'"],
    ['PORT', '65536', "PORT must be an integer 1-65535, got '65536'"],
    ['PORT', '80.5', "PORT must be an integer 1-65535, got '80.5'"],
    ['PORT', '-1', "PORT must be an integer 1-65535, got '-1'"],
    ['PORT', '1e3', "PORT must be an integer 1-65535, got '1e3'"],
    ['HOST', 'my host', "HOST must be a host name or IP address, got 'my host'"],
    ['LOG_LEVEL', 'verbose', "LOG_LEVEL must be one of error, warn, info, debug, got 'verbose'"],
    [
      'IDEMPOTENCY_RETENTION_HOURS',
      '23',
      "IDEMPOTENCY_RETENTION_HOURS must be an integer 24-8784, got '23'",
    ],
    ['MAILBOX_DEPTH_MAX', '0', "MAILBOX_DEPTH_MAX must be an integer 1-1000000, got '0'"],
    ['ACTOR_COUNT_MAX', 'many', "ACTOR_COUNT_MAX must be an integer 1-10000000, got 'many'"],
    ['ACTOR_IDLE_MS_MAX', '999', "ACTOR_IDLE_MS_MAX must be an integer 1000-86400000, got '999'"],
    [
      'SNAPSHOT_EVERY_EVENTS',
      '-1',
      "SNAPSHOT_EVERY_EVENTS must be an integer 0-10000000, got '-1'",
    ],
    ['BODY_BYTES_MAX', '1023', "BODY_BYTES_MAX must be an integer 1024-67108864, got '1023'"],
    [
      'TRAFFIC_BODY_BYTES_MAX',
      '99999999999',
      "TRAFFIC_BODY_BYTES_MAX must be an integer 1024-67108864, got '99999999999'",
    ],
  ])('refuses %s=%s, naming the variable and the rule', (name, value, message) => {
    expectConfigError({ [name]: value }, message);
  });

  it.each(['http://localhost:2113', 'esdb:/missing-slash', 'esdb://'])(
    'refuses EVENTSTORE_URL=%s without echoing it (it may hold credentials)',
    (url) => {
      expectConfigError(
        { EVENTSTORE_URL: url },
        'EVENTSTORE_URL must start with esdb:// or esdb+discover://',
      );
    },
  );

  it('refuses short secrets without echoing them', () => {
    expectConfigError(
      { LEDGER_ADMIN_API_KEY: 'short-admin-key' },
      'LEDGER_ADMIN_API_KEY must be at least 24 characters',
    );
    expect(() => loadConfig({ LEDGER_ADMIN_API_KEY: 'short-admin-key' })).not.toThrow(
      /short-admin-key/,
    );
    expectConfigError(
      { SANDBOX_CALLBACK_SECRET: 'tiny' },
      'SANDBOX_CALLBACK_SECRET must be at least 16 characters',
    );
  });
});

describe('describeConfig', () => {
  it('documents every variable loadConfig reads, with the defaults it applies', () => {
    const rows = describeConfig();
    expect(rows.map((row) => row.name)).toEqual([
      'PORT',
      'HOST',
      'DATA_DIR',
      'EVENTSTORE_URL',
      'MONGODB_URL',
      'LOG_LEVEL',
      'LEDGER_ADMIN_API_KEY',
      'SANDBOX_CALLBACK_SECRET',
      'IDEMPOTENCY_RETENTION_HOURS',
      'MAILBOX_DEPTH_MAX',
      'ACTOR_COUNT_MAX',
      'ACTOR_IDLE_MS_MAX',
      'SNAPSHOT_EVERY_EVENTS',
      'BODY_BYTES_MAX',
      'TRAFFIC_BODY_BYTES_MAX',
    ]);
    const defaults = loadConfig({});
    const byName = new Map(rows.map((row) => [row.name, row.defaultValue]));
    expect(byName.get('PORT')).toBe(String(defaults.port));
    expect(byName.get('BODY_BYTES_MAX')).toBe(String(defaults.bodyBytesMax));
    expect(byName.get('EVENTSTORE_URL')).toBe('(unset)');
    for (const row of rows) expect(row.meaning.length).toBeGreaterThan(5);
  });
});
