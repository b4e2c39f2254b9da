import { GOVERNANCE_ROWS } from './governance-config';
import { MESSAGING_DEFAULTS } from './messaging-config';
import { OBSERVABILITY_DEFAULTS } from './observability-config';
import { RECONCILIATION_DEFAULTS } from './reconciliation-config';

/**
 * Every environment variable with its default and meaning: loadConfig (bin/config.ts) applies
 * these defaults, and the README's configuration table must equal describeConfig's rows.
 */
type ConfigRow = { name: string; defaultValue: string; meaning: string };

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MIB = 1024 * 1024;

export const DEFAULTS = {
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
  DRAIN_TIMEOUT_MS: 10_000,
  AUDIT_CHECKPOINT_INTERVAL_MS: 60_000,
  AUDIT_CHECKPOINT_EVERY_EVENTS: 10_000,
  NODE_SILENT_AFTER_MS: 60_000,
  WEBHOOK_TIMEOUT_MS: 10_000,
  WEBHOOK_CONCURRENCY_MAX: 8,
  WEBHOOK_RETRY_BASE_MS: 60_000,
  WEBHOOK_DISABLE_AFTER_HOURS: 120,
  BACKUP_DIR: './backups',
  BACKUP_INTERVAL_MS: 0,
  BACKUP_KEEP: 24,
  HSTS_MAX_AGE_S: 31_536_000,
  OAUTH_AUDIENCE: 'ledger-api',
  OAUTH_TOKEN_TTL_S: 900,
  OAUTH_KEY_OVERLAP_S: 3600,
  SECURITY_EVENT_RETENTION_DAYS: 365,
} as const;

const UNSET = '(unset)';

const row = (name: string, defaultValue: string | number, meaning: string): ConfigRow => ({
  name,
  defaultValue: String(defaultValue),
  meaning,
});
const unset = (name: string, meaning: string): ConfigRow => row(name, UNSET, meaning);

const CORE_ROWS: readonly ConfigRow[] = [
  row('PORT', DEFAULTS.PORT, 'HTTP port (1-65535)'),
  row('HOST', DEFAULTS.HOST, 'interface to listen on'),
  row(
    'DATA_DIR',
    DEFAULTS.DATA_DIR,
    'directory of the embedded stores, the admin key file and the sandbox secret',
  ),
  unset(
    'EVENTSTORE_URL',
    '`esdb://` or `esdb+discover://` URL of KurrentDB ≥ 25.1; unset: embedded SQLite',
  ),
  unset(
    'MONGODB_URL',
    '`mongodb://` URL of a replica set (MongoDB ≥ 5.0) for the read models; unset: embedded SQLite',
  ),
  unset(
    'NATS_URL',
    '`nats://` or `tls://` URL of JetStream for the relay and sagas; unset: in-process bus',
  ),
  row(
    'NATS_STREAM_RETENTION',
    MESSAGING_DEFAULTS.NATS_STREAM_RETENTION,
    "the JetStream stream's retention: limits, interest or workqueue",
  ),
  row('NATS_STREAM_MAX_AGE_S', MESSAGING_DEFAULTS.NATS_STREAM_MAX_AGE_S, "the stream's max age"),
  row(
    'NATS_STREAM_REPLICAS',
    MESSAGING_DEFAULTS.NATS_STREAM_REPLICAS,
    "the stream's replicas (1-5)",
  ),
  row(
    'NATS_DUPLICATE_WINDOW_S',
    MESSAGING_DEFAULTS.NATS_DUPLICATE_WINDOW_S,
    "the stream's de-duplication window",
  ),
  unset(
    'PLANS_FILE',
    'JSON array of plans `{planId, name, amountMinor, currency, quotaBytes, durationDays or durationSeconds, level?, group?}` that seeds the plan catalogue on the first start only (later edits are not applied: a warning names them; manage plans through `/v1/plans`); unset: two demo plans',
  ),
  row('LOG_LEVEL', DEFAULTS.LOG_LEVEL, LOG_LEVELS.join(', ')),
  unset(
    'LEDGER_ADMIN_API_KEY',
    'admin API key (>= 24 chars; live mode unless it begins with `lsk_test_`); unset: a live key generated into `DATA_DIR`',
  ),
  unset(
    'SANDBOX_CALLBACK_SECRET',
    'sandbox signing secret (>= 16 chars); unset: generated into `DATA_DIR`',
  ),
  row('SANDBOX_FAIL_REFUNDS', 'false', '`true`: the sandbox channel refuses every refund'),
  row(
    'SANDBOX_ENABLED',
    'true',
    '`false` (production): no sandbox channel, sandbox callbacks or `ledger sandbox pay`; test-mode keys create no payments',
  ),
  row(
    'IDEMPOTENCY_RETENTION_HOURS',
    DEFAULTS.IDEMPOTENCY_RETENTION_HOURS,
    'Idempotency-Key retention (>= 24)',
  ),
  row(
    'MAILBOX_DEPTH_MAX',
    DEFAULTS.MAILBOX_DEPTH_MAX,
    'commands queued per actor, then 503 with Retry-After (the ledger queues up to 65,536 commands, eight full batch requests)',
  ),
  row(
    'ACTOR_COUNT_MAX',
    DEFAULTS.ACTOR_COUNT_MAX,
    'actors kept in memory (LRU eviction beyond), and, separately, accounts and transfers the ledger keeps in memory',
  ),
  row('ACTOR_IDLE_MS_MAX', DEFAULTS.ACTOR_IDLE_MS_MAX, 'idle time before an actor is evicted'),
  row(
    'SNAPSHOT_EVERY_EVENTS',
    DEFAULTS.SNAPSHOT_EVERY_EVENTS,
    'events between snapshots of an account or traffic shard (0: none)',
  ),
  row('BODY_BYTES_MAX', DEFAULTS.BODY_BYTES_MAX, 'request body limit (1 KiB-64 MiB)'),
  row(
    'TRAFFIC_BODY_BYTES_MAX',
    DEFAULTS.TRAFFIC_BODY_BYTES_MAX,
    'body limit of traffic reports and transfer batches',
  ),
  row(
    'DRAIN_TIMEOUT_MS',
    DEFAULTS.DRAIN_TIMEOUT_MS,
    'bound on the drain at SIGTERM (100-600000): connections still open then are closed',
  ),
  row(
    'AUDIT_CHECKPOINT_INTERVAL_MS',
    DEFAULTS.AUDIT_CHECKPOINT_INTERVAL_MS,
    'the longest the service waits after a checkpoint before it signs the next when the log moved (0-86400000; 0: no timer)',
  ),
  row(
    'AUDIT_CHECKPOINT_EVERY_EVENTS',
    DEFAULTS.AUDIT_CHECKPOINT_EVERY_EVENTS,
    'the service also signs a checkpoint once this many events were appended since the last one, whichever comes first (0-100000000; 0: no count; both 0: only `ledger audit checkpoint`)',
  ),
  unset(
    'LEDGER_AUDIT_SIGNING_KEY_FILE',
    'PEM (PKCS#8) Ed25519 key that signs checkpoints; unset: generated into `DATA_DIR` (mode 0600)',
  ),
  row(
    'NODE_SILENT_AFTER_MS',
    DEFAULTS.NODE_SILENT_AFTER_MS,
    'a node without a heartbeat this long is recorded `silent` (`NodeWentSilent`, a `node_silent` alert); heartbeats are kept twice as long, the TTL of the NATS bucket (1000-86400000)',
  ),
  unset(
    'WEBHOOK_ALLOWED_TARGETS',
    'comma-separated IP addresses or CIDR ranges webhooks may reach although private, loopback or link-local (e.g. `127.0.0.1/32` for a local receiver); unset: public addresses only',
  ),
  row(
    'WEBHOOK_TIMEOUT_MS',
    DEFAULTS.WEBHOOK_TIMEOUT_MS,
    'bound on one webhook request, connection to answer (100-60000)',
  ),
  row(
    'WEBHOOK_CONCURRENCY_MAX',
    DEFAULTS.WEBHOOK_CONCURRENCY_MAX,
    'webhook requests in flight at once (1-256)',
  ),
  row(
    'WEBHOOK_RETRY_BASE_MS',
    DEFAULTS.WEBHOOK_RETRY_BASE_MS,
    'pause after a failed webhook attempt, doubled after each further failure up to 6 h, with jitter, for up to 3 days (100-3600000)',
  ),
  row(
    'WEBHOOK_DISABLE_AFTER_HOURS',
    DEFAULTS.WEBHOOK_DISABLE_AFTER_HOURS,
    'an endpoint whose deliveries all failed for this long is disabled, with a `webhook_endpoint.disabled` notice (1-720)',
  ),
  row(
    'BACKUP_INTERVAL_MS',
    DEFAULTS.BACKUP_INTERVAL_MS,
    'how often the service takes an online backup of its embedded stores into `BACKUP_DIR` (0: only `ledger backup`; else 60000-604800000)',
  ),
  row(
    'BACKUP_DIR',
    DEFAULTS.BACKUP_DIR,
    'where `ledger backup` and the schedule write backups (one timestamped directory each)',
  ),
  row(
    'BACKUP_KEEP',
    DEFAULTS.BACKUP_KEEP,
    'backups kept in `BACKUP_DIR`, the oldest deleted beyond (1-10000)',
  ),
  unset(
    'TLS_CERT_FILE',
    'PEM certificate (chain) file: the service serves HTTPS on `PORT`, reloading the pair when the files change; needs `TLS_KEY_FILE`',
  ),
  unset('TLS_KEY_FILE', 'PEM private key file of `TLS_CERT_FILE`'),
  unset(
    'HTTP_REDIRECT_PORT',
    'with TLS: a plain HTTP listener on this port that redirects (308) to HTTPS; unset: HTTPS only',
  ),
  row(
    'HSTS_MAX_AGE_S',
    DEFAULTS.HSTS_MAX_AGE_S,
    'max-age of `Strict-Transport-Security`, sent on every HTTPS answer (0: none; at most 63072000)',
  ),
  unset(
    'TRUSTED_PROXIES',
    'comma-separated IPs and CIDRs of reverse proxies whose `X-Forwarded-For`/`-Proto` are believed; unset: none (the socket address is the client)',
  ),
  unset(
    'CORS_ALLOWED_ORIGINS',
    "comma-separated origins (`https://shop.example`) whose pages may call the payer's status route (`GET /v1/payments/{id}/status`); no other route sends CORS headers; unset: none",
  ),
  row(
    'OAUTH_ISSUER',
    '`http://HOST:PORT`',
    'the `iss` of access tokens (and the only issuer accepted); set it to the public URL',
  ),
  row(
    'OAUTH_AUDIENCE',
    DEFAULTS.OAUTH_AUDIENCE,
    'the `aud` of access tokens (and the only one accepted)',
  ),
  row('OAUTH_TOKEN_TTL_S', DEFAULTS.OAUTH_TOKEN_TTL_S, 'access token lifetime (60-900)'),
  row(
    'OAUTH_KEY_OVERLAP_S',
    DEFAULTS.OAUTH_KEY_OVERLAP_S,
    'how long a rotated-out signing key still verifies (`OAUTH_TOKEN_TTL_S`-2592000)',
  ),
  unset(
    'OAUTH_SIGNING_KEY_FILE',
    'PEM (PKCS#8) Ed25519 key that signs access tokens; made current at start; unset: generated into `DATA_DIR` (mode 0600)',
  ),
  row(
    'SECURITY_EVENT_RETENTION_DAYS',
    DEFAULTS.SECURITY_EVENT_RETENTION_DAYS,
    'how long the security audit trail keeps an event (1-3650)',
  ),
];

/** Tracing and the alert webhook (bin/observability-config.ts; docs/operations.md). */
const OBSERVABILITY_ROWS: readonly ConfigRow[] = [
  unset(
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTLP/HTTP base URL: spans go to `<url>/v1/traces`; unset: no tracing SDK, no spans recorded',
  ),
  row('OTEL_SERVICE_NAME', OBSERVABILITY_DEFAULTS.OTEL_SERVICE_NAME, "the spans' `service.name`"),
  unset(
    'ALERT_WEBHOOK_URL',
    'incoming-webhook URL (Slack or WeCom) for security and business alerts; never logged; unset: none',
  ),
  row(
    'ALERT_WEBHOOK_FORMAT',
    OBSERVABILITY_DEFAULTS.ALERT_WEBHOOK_FORMAT,
    '`slack` (`{text}`) or `wecom` (`{msgtype: "text", text: {content}}`)',
  ),
  row(
    'ALERT_WINDOW_MS',
    OBSERVABILITY_DEFAULTS.ALERT_WINDOW_MS,
    'an alert kind counts occurrences this long after its first, then posts once (100-3600000)',
  ),
  row(
    'ALERT_REPEAT_MS',
    OBSERVABILITY_DEFAULTS.ALERT_REPEAT_MS,
    'least time between two posts of one alert kind (0-86400000); what happens meanwhile goes into the next',
  ),
  row(
    'ALERT_WEBHOOK_TIMEOUT_MS',
    OBSERVABILITY_DEFAULTS.ALERT_WEBHOOK_TIMEOUT_MS,
    'bound on one webhook POST (100-60000)',
  ),
];

/** The daily reconciliation (bin/reconciliation-config.ts; docs/operations.md). */
const RECONCILIATION_ROWS: readonly ConfigRow[] = [
  row(
    'RECONCILIATION_DAILY_AT',
    RECONCILIATION_DEFAULTS.RECONCILIATION_DAILY_AT,
    "local time (HH:MM) the service reconciles each channel's statement of the previous day; `off`: never by itself",
  ),
  row(
    'RECONCILIATION_TIMEZONE',
    RECONCILIATION_DEFAULTS.RECONCILIATION_TIMEZONE,
    'IANA time zone of that time and of the day a statement covers (e.g. `Asia/Shanghai`)',
  ),
];

/** Channel keys and certificates: secrets, so no default is shown and none is ever logged. */
const CHANNEL_ROWS: readonly ConfigRow[] = [
  unset('WECHAT_APP_ID', 'WeChat Pay app id; unset: no WeChat Pay'),
  unset('WECHAT_MCH_ID', 'WeChat Pay merchant id'),
  unset('WECHAT_NOTIFY_URL', 'the WeChat Pay callback URL you registered'),
  row('WECHAT_API_VERSION', 'v2', '`v2` or `v3`: which API the outbound gateway speaks'),
  unset('WECHAT_API_KEY', 'v2: the 32-character API key'),
  row('WECHAT_SIGN_TYPE', 'HMAC-SHA256', 'v2: `HMAC-SHA256` or `MD5`'),
  unset('WECHAT_CLIENT_CERT', 'v2: the merchant API certificate (PEM) for refunds (mutual TLS)'),
  unset('WECHAT_CLIENT_KEY', 'v2: the private key (PEM) of that certificate'),
  unset('WECHAT_APIV3_KEY', 'v3: the 32-character APIv3 key'),
  unset('WECHAT_MERCHANT_PRIVATE_KEY', 'v3: the merchant signing key (PEM)'),
  unset('WECHAT_MERCHANT_SERIAL_NO', 'v3: the serial number of the merchant certificate'),
  unset('WECHAT_PLATFORM_CERTS', 'v3: `serial=path,serial=path`, platform certificates by serial'),
  row('WECHAT_API_BASE_URL', 'https://api.mch.weixin.qq.com', 'WeChat Pay API base URL'),
  unset('ALIPAY_APP_ID', 'Alipay open platform app id (RSA2); unset: no Alipay'),
  unset('ALIPAY_NOTIFY_URL', 'the Alipay callback URL you registered'),
  unset('ALIPAY_APP_PRIVATE_KEY', 'the app private key (PEM)'),
  unset('ALIPAY_PUBLIC_KEY', "Alipay's public key or certificate (PEM)"),
  row('ALIPAY_GATEWAY_URL', 'https://openapi.alipay.com/gateway.do', 'Alipay gateway URL'),
  unset(
    'STRIPE_WEBHOOK_SECRETS',
    'comma-separated webhook signing secrets (several while rotating)',
  ),
  unset('STRIPE_SECRET_KEY', 'Stripe API key (needs `STRIPE_WEBHOOK_SECRETS`)'),
  row('STRIPE_API_BASE_URL', 'https://api.stripe.com', 'Stripe API base URL'),
];

/** Every variable, its default and meaning, in the order of the README's table. */
export const describeConfig = (): readonly ConfigRow[] => [
  ...CORE_ROWS,
  ...GOVERNANCE_ROWS,
  ...OBSERVABILITY_ROWS,
  ...RECONCILIATION_ROWS,
  ...CHANNEL_ROWS,
];
