import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, describeConfig, loadConfig } from '../../bin/config';
import { DEMO_PLANS } from '../../bin/messaging-config';

const NO_CHANNELS = {
  wechat: null,
  alipay: null,
  stripe: null,
  sandboxFailRefunds: false,
  sandboxEnabled: true,
};

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
      nats: null,
      plans: DEMO_PLANS,
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
      drainTimeoutMs: 10_000,
      nodeSilentAfterMs: 60_000,
      channels: NO_CHANNELS,
      auditSigningKeyFile: null,
      auditCheckpointIntervalMs: 60_000,
      auditCheckpointEveryEvents: 10_000,
      webhooks: {
        allowedTargets: [],
        timeoutMs: 10_000,
        concurrencyMax: 8,
        retryBaseMs: 60_000,
        disableAfterMs: 120 * 3600 * 1000,
      },
      backupDir: resolve('./backups'),
      backupIntervalMs: 0,
      backupKeepCount: 24,
      tls: null,
      hstsMaxAgeS: 31_536_000,
      trustedProxies: [],
      oauth: {
        issuer: 'http://127.0.0.1:3000',
        audience: 'ledger-api',
        tokenTtlS: 900,
        keyOverlapS: 3600,
        signingKeyFile: null,
        securityEventRetentionDays: 365,
      },
      rateLimits: {
        client: { requests: 300, windowS: 1 },
        ip: { requests: 1000, windowS: 1 },
        hotKey: { requests: 200, windowS: 1 },
        callback: { requests: 5000, windowS: 1 },
        authFailures: { requests: 10, windowS: 300 },
      },
      rateLimitStore: { kind: 'memory' },
      tracing: { otlpEndpoint: null, serviceName: 'ledger-service' },
      alertWebhook: null,
      corsAllowedOrigins: [],
      reconciliation: { dailyAt: { hour: 2, minute: 0 }, timeZone: 'UTC' },
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
      DRAIN_TIMEOUT_MS: '2500',
      NODE_SILENT_AFTER_MS: '5000',
      NATS_URL: 'nats://127.0.0.1:4222',
      SANDBOX_FAIL_REFUNDS: 'true',
      AUDIT_CHECKPOINT_INTERVAL_MS: '0',
      AUDIT_CHECKPOINT_EVERY_EVENTS: '500',
      WEBHOOK_ALLOWED_TARGETS: '127.0.0.1/32, ::1,10.0.0.0/8',
      WEBHOOK_TIMEOUT_MS: '500',
      WEBHOOK_CONCURRENCY_MAX: '2',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_DISABLE_AFTER_HOURS: '1',
      BACKUP_DIR: '/var/backups/ledger',
      BACKUP_INTERVAL_MS: '3600000',
      BACKUP_KEEP: '48',
      HSTS_MAX_AGE_S: '0',
      TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.10,fd00::/8',
      OAUTH_ISSUER: 'https://ledger.example',
      OAUTH_AUDIENCE: 'payments-api',
      OAUTH_TOKEN_TTL_S: '300',
      OAUTH_KEY_OVERLAP_S: '600',
      SECURITY_EVENT_RETENTION_DAYS: '30',
      RATE_LIMIT_CLIENT: '5/60s',
      RATE_LIMIT_IP: 'off',
      RATE_LIMIT_HOT_KEY: '7/2s',
      RATE_LIMIT_CALLBACK: '9/1s',
      AUTH_FAILURE_LIMIT: '3/900s',
      RATE_LIMIT_STORE: 'sqlite',
      RATE_LIMIT_SQLITE_FILE: '/var/lib/shared/rate-limits.sqlite',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'ledger-eu',
      ALERT_WEBHOOK_URL: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1',
      ALERT_WEBHOOK_FORMAT: 'wecom',
      ALERT_WINDOW_MS: '500',
      ALERT_REPEAT_MS: '0',
      ALERT_WEBHOOK_TIMEOUT_MS: '1000',
      CORS_ALLOWED_ORIGINS: 'https://shop.example, http://localhost:8080',
      RECONCILIATION_DAILY_AT: '03:30',
      RECONCILIATION_TIMEZONE: 'Asia/Shanghai',
    });
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: '/var/lib/ledger',
      eventStoreUrl: 'esdb+discover://cluster.local:2113?tls=true',
      mongodbUrl: 'mongodb://db-1:27017,db-2:27017/ledger?replicaSet=rs0',
      nats: expect.objectContaining({ url: 'nats://127.0.0.1:4222' }),
      plans: DEMO_PLANS,
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
      drainTimeoutMs: 2500,
      nodeSilentAfterMs: 5000,
      channels: { ...NO_CHANNELS, sandboxFailRefunds: true },
      auditSigningKeyFile: null,
      auditCheckpointIntervalMs: 0,
      auditCheckpointEveryEvents: 500,
      webhooks: {
        allowedTargets: ['127.0.0.1/32', '::1', '10.0.0.0/8'],
        timeoutMs: 500,
        concurrencyMax: 2,
        retryBaseMs: 100,
        disableAfterMs: 3600 * 1000,
      },
      backupDir: '/var/backups/ledger',
      backupIntervalMs: 3_600_000,
      backupKeepCount: 48,
      tls: null,
      hstsMaxAgeS: 0,
      trustedProxies: ['10.0.0.0/8', '192.168.1.10', 'fd00::/8'],
      oauth: {
        issuer: 'https://ledger.example',
        audience: 'payments-api',
        tokenTtlS: 300,
        keyOverlapS: 600,
        signingKeyFile: null,
        securityEventRetentionDays: 30,
      },
      rateLimits: {
        client: { requests: 5, windowS: 60 },
        ip: null,
        hotKey: { requests: 7, windowS: 2 },
        callback: { requests: 9, windowS: 1 },
        authFailures: { requests: 3, windowS: 900 },
      },
      rateLimitStore: { kind: 'sqlite', path: '/var/lib/shared/rate-limits.sqlite' },
      tracing: { otlpEndpoint: 'http://collector:4318', serviceName: 'ledger-eu' },
      alertWebhook: {
        url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1',
        format: 'wecom',
        windowMs: 500,
        repeatMs: 0,
        timeoutMs: 1000,
      },
      corsAllowedOrigins: ['https://shop.example', 'http://localhost:8080'],
      reconciliation: { dailyAt: { hour: 3, minute: 30 }, timeZone: 'Asia/Shanghai' },
    });
  });

  it('turns the daily reconciliation off, and refuses a bad time or time zone', () => {
    expect(loadConfig({ RECONCILIATION_DAILY_AT: 'off' }).reconciliation.dailyAt).toBeNull();
    expect(() => loadConfig({ RECONCILIATION_DAILY_AT: '2am' })).toThrow(
      /RECONCILIATION_DAILY_AT must be HH:MM/,
    );
    expect(() => loadConfig({ RECONCILIATION_DAILY_AT: '24:00' })).toThrow(ConfigError);
    expect(() => loadConfig({ RECONCILIATION_TIMEZONE: 'Mars/Olympus' })).toThrow(
      /RECONCILIATION_TIMEZONE must be an IANA time zone/,
    );
  });

  it('reads a TLS pair that loads, and refuses half a pair, a bad pair, a redirect without TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-config-tls-'));
    try {
      const pair = (name: string) => {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        const keyFile = join(dir, `${name}.key`);
        writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
        return keyFile;
      };
      const keyFile = pair('a');
      const certFile = join(dir, 'a.crt');
      execFileSync(
        'openssl',
        ['req', '-x509', '-key', keyFile, '-subj', '/CN=t', '-days', '1', '-out', certFile],
        { stdio: 'pipe' },
      );
      expect(
        loadConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, HTTP_REDIRECT_PORT: '8080' })
          .tls,
      ).toEqual({ certFile, keyFile, httpRedirectPort: 8080 });
      expectConfigError(
        { TLS_CERT_FILE: certFile },
        'TLS_CERT_FILE and TLS_KEY_FILE must be set together',
      );
      expect(() => loadConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: pair('b') })).toThrow(
        /TLS_CERT_FILE\/TLS_KEY_FILE: not a usable certificate and key/,
      );
      expectConfigError(
        { HTTP_REDIRECT_PORT: '8080' },
        'HTTP_REDIRECT_PORT needs TLS_CERT_FILE and TLS_KEY_FILE',
      );
      expectConfigError(
        { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, HTTP_REDIRECT_PORT: '3000' },
        'HTTP_REDIRECT_PORT must differ from PORT',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a TRUSTED_PROXIES entry that is no address or block', () => {
    expectConfigError(
      { TRUSTED_PROXIES: '10.0.0.1,proxy.internal' },
      "TRUSTED_PROXIES: 'proxy.internal' is not an IP address or CIDR block",
    );
  });

  it('refuses a CORS origin with a path, a trailing slash or another scheme', () => {
    for (const bad of [
      'https://shop.example/',
      'https://shop.example/pay',
      'ftp://shop.example',
      '*',
    ])
      expectConfigError(
        { CORS_ALLOWED_ORIGINS: `https://ok.example,${bad}` },
        `CORS_ALLOWED_ORIGINS: '${bad}' is not an origin (scheme://host[:port], no path or trailing slash)`,
      );
  });

  it('refuses a backup interval too short to finish a backup, and keeping none', () => {
    expectConfigError(
      { BACKUP_INTERVAL_MS: '1000' },
      "BACKUP_INTERVAL_MS must be 0 (off) or at least 60000, got '1000'",
    );
    expectConfigError({ BACKUP_KEEP: '0' }, "BACKUP_KEEP must be an integer 1-10000, got '0'");
  });

  it('refuses a token lifetime over 15 minutes and a key overlap shorter than a token', () => {
    expectConfigError({ OAUTH_TOKEN_TTL_S: '901' }, /OAUTH_TOKEN_TTL_S must be an integer 60-900/);
    expectConfigError(
      { OAUTH_TOKEN_TTL_S: '600', OAUTH_KEY_OVERLAP_S: '599' },
      /OAUTH_KEY_OVERLAP_S must be an integer 600-2592000/,
    );
    expectConfigError(
      { OAUTH_ISSUER: 'ledger' },
      'OAUTH_ISSUER must be an http:// or https:// URL',
    );
  });

  it('reads LEDGER_AUDIT_SIGNING_KEY_FILE when it holds an Ed25519 key, and refuses another kind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-config-'));
    try {
      const ed25519 = join(dir, 'ed25519.pem');
      const rsa = join(dir, 'rsa.pem');
      const pkcs8 = { type: 'pkcs8', format: 'pem' } as const;
      writeFileSync(ed25519, generateKeyPairSync('ed25519').privateKey.export(pkcs8));
      writeFileSync(
        rsa,
        generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export(pkcs8),
      );
      expect(loadConfig({ LEDGER_AUDIT_SIGNING_KEY_FILE: ed25519 }).auditSigningKeyFile).toBe(
        ed25519,
      );
      expectConfigError(
        { LEDGER_AUDIT_SIGNING_KEY_FILE: rsa },
        `LEDGER_AUDIT_SIGNING_KEY_FILE: ${rsa}: an Ed25519 key is needed, got rsa`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an ALERT_WEBHOOK_URL or OTLP endpoint that is not http(s), without echoing it', () => {
    expectConfigError(
      { ALERT_WEBHOOK_URL: 'ftp://hooks/secret-token' },
      'ALERT_WEBHOOK_URL must be an http:// or https:// URL',
    );
    expect(() => loadConfig({ ALERT_WEBHOOK_URL: 'ftp://hooks/secret-token' })).not.toThrow(
      /secret-token/,
    );
    expectConfigError(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL',
    );
    expectConfigError(
      { ALERT_WEBHOOK_URL: 'https://hooks.slack.com/x', ALERT_WEBHOOK_FORMAT: 'teams' },
      'ALERT_WEBHOOK_FORMAT must be one of slack, wecom',
    );
  });

  it('puts the rate-limit counters in DATA_DIR or MongoDB, and refuses a store it cannot reach', () => {
    expect(loadConfig({ DATA_DIR: '/d', RATE_LIMIT_STORE: 'sqlite' }).rateLimitStore).toEqual({
      kind: 'sqlite',
      path: '/d/rate-limits.sqlite',
    });
    const url = 'mongodb://db-1:27017/?replicaSet=rs0';
    expect(loadConfig({ MONGODB_URL: url, RATE_LIMIT_STORE: 'mongodb' }).rateLimitStore).toEqual({
      kind: 'mongodb',
      url,
    });
    expectConfigError(
      { RATE_LIMIT_STORE: 'mongodb' },
      /RATE_LIMIT_STORE=mongodb needs MONGODB_URL/,
    );
    expectConfigError(
      { RATE_LIMIT_STORE: 'redis' },
      /RATE_LIMIT_STORE must be one of memory, sqlite, mongodb/,
    );
    expectConfigError(
      { RATE_LIMIT_SQLITE_FILE: '/x.sqlite' },
      /RATE_LIMIT_STORE is 'memory', not sqlite/,
    );
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
    ['DRAIN_TIMEOUT_MS', '99', "DRAIN_TIMEOUT_MS must be an integer 100-600000, got '99'"],
    [
      'AUDIT_CHECKPOINT_INTERVAL_MS',
      '-1',
      "AUDIT_CHECKPOINT_INTERVAL_MS must be an integer 0-86400000, got '-1'",
    ],
    [
      'AUDIT_CHECKPOINT_EVERY_EVENTS',
      '10k',
      "AUDIT_CHECKPOINT_EVERY_EVENTS must be an integer 0-100000000, got '10k'",
    ],
    [
      'AUDIT_CHECKPOINT_EVERY_EVENTS',
      '100000001',
      "AUDIT_CHECKPOINT_EVERY_EVENTS must be an integer 0-100000000, got '100000001'",
    ],
    ['LEDGER_AUDIT_SIGNING_KEY_FILE', '/nonexistent/key.pem', 'LEDGER_AUDIT_SIGNING_KEY_FILE: '],
    [
      'NODE_SILENT_AFTER_MS',
      '999',
      "NODE_SILENT_AFTER_MS must be an integer 1000-86400000, got '999'",
    ],
    ['NATS_URL', 'http://nats:4222', 'NATS_URL must be a nats:// or tls:// URL'],
    [
      'WEBHOOK_ALLOWED_TARGETS',
      '127.0.0.1,localhost',
      "WEBHOOK_ALLOWED_TARGETS must list IP addresses or CIDR ranges, got 'localhost'",
    ],
    [
      'WEBHOOK_ALLOWED_TARGETS',
      '10.0.0.0/33',
      "WEBHOOK_ALLOWED_TARGETS must list IP addresses or CIDR ranges, got '10.0.0.0/33'",
    ],
    ['WEBHOOK_TIMEOUT_MS', '99', "WEBHOOK_TIMEOUT_MS must be an integer 100-60000, got '99'"],
    [
      'WEBHOOK_DISABLE_AFTER_HOURS',
      '0',
      "WEBHOOK_DISABLE_AFTER_HOURS must be an integer 1-720, got '0'",
    ],
    [
      'RATE_LIMIT_CLIENT',
      '300 per second',
      "RATE_LIMIT_CLIENT must be <requests>/<seconds>s (requests >= 1, 1-86400 s) or off, got '300 per second'",
    ],
    [
      'AUTH_FAILURE_LIMIT',
      '0/60s',
      "AUTH_FAILURE_LIMIT must be <requests>/<seconds>s (requests >= 1, 1-86400 s) or off, got '0/60s'",
    ],
    ['SANDBOX_FAIL_REFUNDS', 'yes', "SANDBOX_FAIL_REFUNDS must be true or false, got 'yes'"],
    ['WECHAT_APP_ID', 'wx1', 'WECHAT_MCH_ID is required with WECHAT_APP_ID'],
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

/** The README's configuration table: `| \`NAME\` | default | meaning |` rows under its header. */
const readmeRows = (): { name: string; defaultValue: string; meaning: string }[] => {
  const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
  const table = readme.split('| variable | default | meaning |\n|---|---|---|\n')[1] ?? '';
  const lines = table.slice(0, table.indexOf('\n\n')).split('\n');
  return lines.map((line) => {
    const [name = '', defaultValue = '', meaning = ''] = line
      .replace(/^\| | \|$/g, '')
      .split(' | ');
    return { name: name.replace(/^`|`$/g, ''), defaultValue, meaning };
  });
};

/** Every variable name loadConfig asks the environment for. */
const namesRead = (env: Record<string, string>): Set<string> => {
  const names = new Set<string>();
  const recording = new Proxy(env, {
    get: (target, name) => {
      if (typeof name === 'string') names.add(name);
      return typeof name === 'string' ? target[name] : undefined;
    },
  });
  loadConfig(recording);
  return names;
};

describe('describeConfig', () => {
  it('is the README configuration table, row for row (name, default, meaning)', () => {
    expect(readmeRows()).toEqual(describeConfig());
  });

  it('documents every variable loadConfig reads, channel keys included', () => {
    const documented = new Set(describeConfig().map((row) => row.name));
    const read = new Set([
      ...namesRead({}),
      ...namesRead({
        NATS_URL: 'nats://n',
        WECHAT_APP_ID: 'wx1',
        WECHAT_MCH_ID: 'm1',
        WECHAT_NOTIFY_URL: 'https://shop/n',
        WECHAT_API_KEY: 'k'.repeat(32),
        STRIPE_WEBHOOK_SECRETS: 'whsec_a',
        ALERT_WEBHOOK_URL: 'https://hooks.slack.com/x',
      }),
    ]);
    // A secret's NAME_FILE is documented with NAME (the README says so above the table).
    const undocumented = [...read].filter(
      (name) => !documented.has(name) && !documented.has(name.replace(/_FILE$/, '')),
    );
    expect(undocumented).toEqual([]);
    expect(read).toContain('WECHAT_API_KEY');
    expect(documented).toContain('DRAIN_TIMEOUT_MS');
  });

  it('shows no default for a secret', () => {
    const rows = new Map(describeConfig().map((row) => [row.name, row.defaultValue]));
    for (const name of ['LEDGER_ADMIN_API_KEY', 'WECHAT_API_KEY', 'STRIPE_SECRET_KEY'])
      expect(rows.get(name)).toBe('(unset)');
  });

  it('shows the defaults loadConfig applies', () => {
    const defaults = loadConfig({ NATS_URL: 'nats://n' });
    const byName = new Map(describeConfig().map((row) => [row.name, row.defaultValue]));
    expect(byName.get('PORT')).toBe(String(defaults.port));
    expect(byName.get('BODY_BYTES_MAX')).toBe(String(defaults.bodyBytesMax));
    expect(byName.get('DRAIN_TIMEOUT_MS')).toBe(String(defaults.drainTimeoutMs));
    expect(byName.get('NATS_STREAM_RETENTION')).toBe(defaults.nats?.retention);
    expect(byName.get('NATS_STREAM_MAX_AGE_S')).toBe(String((defaults.nats?.maxAgeMs ?? 0) / 1000));
    expect(byName.get('EVENTSTORE_URL')).toBe('(unset)');
    for (const row of describeConfig()) expect(row.meaning.length).toBeGreaterThan(5);
  });
});
