import type {
  WebhookAttempt,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookStore,
} from '../../domain/ports/webhook-store.port';
import { assert } from '../../domain/assert';
import { isMode, type Mode } from '../../domain/mode/mode';
import { webhookEventTypes, type WebhookEventType } from '../../domain/webhook/webhook.model';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';

type EndpointRow = {
  endpoint_id: string;
  kind: WebhookEndpoint['kind'];
  merchant_id: string;
  mode: string;
  url: string;
  event_types: string;
  description: string;
  enabled: number;
  secret: string;
  previous_secret: string | null;
  previous_expires_at_ms: number | null;
  failing_since_ms: number | null;
  created_at_ms: number;
};
type DeliveryRow = {
  delivery_id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  merchant_id: string;
  body: string;
  status: WebhookDelivery['status'];
  failed_attempt_count: number;
  next_attempt_at_ms: number;
  created_at_ms: number;
};
type AttemptRow = {
  delivery_id: string;
  attempted_at_ms: number;
  duration_ms: number;
  http_status: number | null;
  error: string | null;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  endpoint_id TEXT PRIMARY KEY, kind TEXT NOT NULL, merchant_id TEXT NOT NULL, url TEXT NOT NULL,
  event_types TEXT NOT NULL, description TEXT NOT NULL, enabled INTEGER NOT NULL,
  secret TEXT NOT NULL, previous_secret TEXT, previous_expires_at_ms INTEGER,
  failing_since_ms INTEGER, created_at_ms INTEGER NOT NULL, mode TEXT NOT NULL DEFAULT 'live');
CREATE INDEX IF NOT EXISTS webhook_endpoints_merchant ON webhook_endpoints (merchant_id, created_at_ms);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  delivery_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, event_type TEXT NOT NULL,
  endpoint_id TEXT NOT NULL, merchant_id TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,
  failed_attempt_count INTEGER NOT NULL, next_attempt_at_ms INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL, UNIQUE (event_id, endpoint_id));
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at_ms);
CREATE TABLE IF NOT EXISTS webhook_attempts (
  delivery_id TEXT NOT NULL, attempted_at_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
  http_status INTEGER, error TEXT);
CREATE INDEX IF NOT EXISTS webhook_attempts_delivery ON webhook_attempts (delivery_id, attempted_at_ms);
CREATE TABLE IF NOT EXISTS webhook_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), position TEXT NOT NULL);
`;

// Version 2 adds the endpoint's mode: 'live' for the endpoints made before modes, as their keys.
const SCHEMA_VERSION = 2;
const MIGRATE_TO_2 = "ALTER TABLE webhook_endpoints ADD COLUMN mode TEXT NOT NULL DEFAULT 'live'";

const modeOf = (text: string): Mode => {
  assert(isMode(text), `webhook store: unknown mode ${text}`);
  return text;
};

/** Rows hold only types this service wrote; anything else is a damaged row, refused loudly. */
const eventTypeOf = (text: string): WebhookEventType => {
  const known = webhookEventTypes.find((type) => type === text);
  assert(known !== undefined, `webhook store: unknown event type ${text}`);
  return known;
};

const endpointOf = (row: EndpointRow): WebhookEndpoint => ({
  endpointId: row.endpoint_id,
  kind: row.kind,
  merchantId: row.merchant_id,
  mode: modeOf(row.mode),
  url: row.url,
  eventTypes: (JSON.parse(row.event_types) as string[]).map(eventTypeOf),
  description: row.description,
  enabled: row.enabled === 1,
  secret: row.secret,
  previousSecret:
    row.previous_secret === null || row.previous_expires_at_ms === null
      ? null
      : { secret: row.previous_secret, expiresAtMs: row.previous_expires_at_ms },
  failingSinceMs: row.failing_since_ms,
  createdAtMs: row.created_at_ms,
});

const deliveryOf = (row: DeliveryRow): WebhookDelivery => ({
  deliveryId: row.delivery_id,
  eventId: row.event_id,
  eventType: eventTypeOf(row.event_type),
  endpointId: row.endpoint_id,
  merchantId: row.merchant_id,
  body: row.body,
  status: row.status,
  failedAttemptCount: row.failed_attempt_count,
  nextAttemptAtMs: row.next_attempt_at_ms,
  createdAtMs: row.created_at_ms,
});

const attemptOf = (row: AttemptRow): WebhookAttempt => ({
  deliveryId: row.delivery_id,
  attemptedAtMs: row.attempted_at_ms,
  durationMs: row.duration_ms,
  httpStatus: row.http_status,
  error: row.error,
});

/** Merchants whose endpoint lists listEndpoints keeps in memory. */
const LISTED_MERCHANT_COUNT_MAX = 10_000;

/** Webhook tables in the service's SQLite file, beside the other checkpoints. */
export const createSqliteWebhookStore = (db: SqliteDatabase): WebhookStore => {
  ensureSchema(db, 'webhooks', SCHEMA_VERSION, (database, versionFound) => {
    if (versionFound === 1) database.exec(MIGRATE_TO_2);
    database.exec(SCHEMA);
  });
  const endpointById = db.prepare<[string], EndpointRow>(
    'SELECT * FROM webhook_endpoints WHERE endpoint_id = ?',
  );
  // Prepared once: the webhook fan-out lists a merchant's endpoints for every payment event.
  const endpointsOfMerchant = db.prepare<[string, number], EndpointRow>(
    "SELECT * FROM webhook_endpoints WHERE merchant_id = ? AND kind = 'endpoint' " +
      'ORDER BY created_at_ms, endpoint_id LIMIT ?',
  );
  const deliveryById = db.prepare<[string], DeliveryRow>(
    'SELECT * FROM webhook_deliveries WHERE delivery_id = ?',
  );
  const findEndpoint = (endpointId: string): WebhookEndpoint | null => {
    const row = endpointById.get(endpointId);
    return row === undefined ? null : endpointOf(row);
  };
  const insertDelivery = db.prepare(
    'INSERT INTO webhook_deliveries VALUES (@deliveryId, @eventId, @eventType, @endpointId, ' +
      '@merchantId, @body, @status, @failedAttemptCount, @nextAttemptAtMs, @createdAtMs) ' +
      'ON CONFLICT (event_id, endpoint_id) DO NOTHING',
  );
  const saveCheckpoint = db.prepare(
    'INSERT INTO webhook_checkpoint (id, position) VALUES (1, ?) ' +
      'ON CONFLICT (id) DO UPDATE SET position = excluded.position',
  );
  const enqueue = db.transaction((deliveries: readonly WebhookDelivery[], position: bigint) => {
    for (const delivery of deliveries) insertDelivery.run(delivery);
    saveCheckpoint.run(position.toString());
  });
  const insertAttempt = db.prepare(
    'INSERT INTO webhook_attempts VALUES (@deliveryId, @attemptedAtMs, @durationMs, @httpStatus, @error)',
  );
  const recordAttempt = db.transaction((attempt: WebhookAttempt, nextAtMs: number | null) => {
    insertAttempt.run(attempt);
    const delivery = deliveryById.get(attempt.deliveryId);
    if (delivery === undefined) return;
    if (attempt.error === null) {
      db.prepare(
        "UPDATE webhook_deliveries SET status = 'succeeded', next_attempt_at_ms = ? WHERE delivery_id = ?",
      ).run(attempt.attemptedAtMs, attempt.deliveryId);
      db.prepare('UPDATE webhook_endpoints SET failing_since_ms = NULL WHERE endpoint_id = ?').run(
        delivery.endpoint_id,
      );
      return;
    }
    db.prepare(
      'UPDATE webhook_deliveries SET status = ?, failed_attempt_count = failed_attempt_count + 1, ' +
        'next_attempt_at_ms = ? WHERE delivery_id = ?',
    ).run(
      nextAtMs === null ? 'failed' : 'pending',
      nextAtMs ?? attempt.attemptedAtMs,
      attempt.deliveryId,
    );
    db.prepare(
      'UPDATE webhook_endpoints SET failing_since_ms = ? WHERE endpoint_id = ? AND failing_since_ms IS NULL',
    ).run(attempt.attemptedAtMs, delivery.endpoint_id);
  });
  const deleteEndpoint = db.transaction((endpointId: string, nowMs: number) => {
    const deleted = db
      .prepare('DELETE FROM webhook_endpoints WHERE endpoint_id = ?')
      .run(endpointId);
    db.prepare(
      "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at_ms = ? " +
        "WHERE endpoint_id = ? AND status = 'pending'",
    ).run(nowMs, endpointId);
    return deleted.changes > 0;
  });

  /**
   * listEndpoints' answers by merchant and countMax: the fan-out asks once per event, and this
   * store is the only writer of its (one process's) database, so every endpoint write below
   * clears it first (each write is synchronous), and a read after a write sees the write.
   * Bounded: cleared when full.
   */
  const listed = new Map<string, readonly WebhookEndpoint[]>();

  return {
    createEndpoint: (endpoint) => {
      listed.clear();
      db.prepare(
        'INSERT INTO webhook_endpoints (endpoint_id, kind, merchant_id, url, event_types, ' +
          'description, enabled, secret, previous_secret, previous_expires_at_ms, ' +
          'failing_since_ms, created_at_ms, mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (endpoint_id) DO NOTHING',
      ).run(
        endpoint.endpointId,
        endpoint.kind,
        endpoint.merchantId,
        endpoint.url,
        JSON.stringify(endpoint.eventTypes),
        endpoint.description,
        endpoint.enabled ? 1 : 0,
        endpoint.secret,
        endpoint.previousSecret?.secret ?? null,
        endpoint.previousSecret?.expiresAtMs ?? null,
        endpoint.failingSinceMs,
        endpoint.createdAtMs,
        endpoint.mode,
      );
      return Promise.resolve();
    },
    findEndpoint: (endpointId) => Promise.resolve(findEndpoint(endpointId)),
    listEndpoints: (merchantId, countMax) => {
      const key = `${countMax}:${merchantId}`;
      const known = listed.get(key);
      if (known !== undefined) return Promise.resolve(known);
      const endpoints = endpointsOfMerchant.all(merchantId, countMax).map(endpointOf);
      if (listed.size >= LISTED_MERCHANT_COUNT_MAX) listed.clear();
      listed.set(key, endpoints);
      return Promise.resolve(endpoints);
    },
    updateEndpoint: (endpointId, change) => {
      listed.clear();
      const found = findEndpoint(endpointId);
      if (found === null) return Promise.resolve(null);
      const next = { ...found, ...change };
      const reenabled = change.enabled === true && !found.enabled;
      db.prepare(
        'UPDATE webhook_endpoints SET url = ?, event_types = ?, description = ?, enabled = ?, ' +
          'failing_since_ms = ? WHERE endpoint_id = ?',
      ).run(
        next.url,
        JSON.stringify(next.eventTypes),
        next.description,
        next.enabled ? 1 : 0,
        reenabled ? null : found.failingSinceMs,
        endpointId,
      );
      return Promise.resolve(findEndpoint(endpointId));
    },
    rotateSecret: (endpointId, secret, previousExpiresAtMs) => {
      listed.clear();
      db.prepare(
        'UPDATE webhook_endpoints SET previous_secret = secret, previous_expires_at_ms = ?, ' +
          'secret = ? WHERE endpoint_id = ?',
      ).run(previousExpiresAtMs, secret, endpointId);
      return Promise.resolve(findEndpoint(endpointId));
    },
    deleteEndpoint: (endpointId, nowMs) => {
      listed.clear();
      return Promise.resolve(deleteEndpoint(endpointId, nowMs));
    },
    loadCheckpoint: () => {
      const row = db
        .prepare<[], { position: string }>('SELECT position FROM webhook_checkpoint WHERE id = 1')
        .get();
      return Promise.resolve(row === undefined ? null : BigInt(row.position));
    },
    enqueue: (deliveries, position) => {
      enqueue(deliveries, position);
      return Promise.resolve();
    },
    dueDeliveries: (nowMs, countMax, excluded) => {
      // Over-read by the excluded (in flight) ones, so that they never starve the rest.
      const rows = db
        .prepare<[number, number], DeliveryRow>(
          'SELECT d.* FROM webhook_deliveries d JOIN webhook_endpoints e USING (endpoint_id) ' +
            "WHERE d.status = 'pending' AND d.next_attempt_at_ms <= ? AND e.enabled = 1 " +
            'ORDER BY d.next_attempt_at_ms, d.delivery_id LIMIT ?',
        )
        .all(nowMs, countMax + excluded.size);
      return Promise.resolve(
        rows
          .filter((row) => !excluded.has(row.delivery_id))
          .slice(0, countMax)
          .map(deliveryOf),
      );
    },
    recordAttempt: (attempt, nextAtMs) => {
      // It may start or end the endpoint's failing streak.
      listed.clear();
      recordAttempt(attempt, nextAtMs);
      return Promise.resolve();
    },
    disableEndpoint: (endpointId) => {
      listed.clear();
      return Promise.resolve(
        db
          .prepare('UPDATE webhook_endpoints SET enabled = 0 WHERE endpoint_id = ? AND enabled = 1')
          .run(endpointId).changes > 0,
      );
    },
    findDelivery: (deliveryId) => {
      const row = deliveryById.get(deliveryId);
      return Promise.resolve(row === undefined ? null : deliveryOf(row));
    },
    deliveriesOfEvent: (eventId, attemptCountMax) => {
      const rows = db
        .prepare<[string], DeliveryRow>(
          'SELECT * FROM webhook_deliveries WHERE event_id = ? ORDER BY created_at_ms, delivery_id',
        )
        .all(eventId);
      const attempts = db.prepare<[string, number], AttemptRow>(
        'SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempted_at_ms LIMIT ?',
      );
      return Promise.resolve(
        rows.map((row) => ({
          ...deliveryOf(row),
          attempts: attempts.all(row.delivery_id, attemptCountMax).map(attemptOf),
        })),
      );
    },
    resend: (deliveryId, nowMs) => {
      db.prepare(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at_ms = ?, " +
          'created_at_ms = ?, failed_attempt_count = 0 WHERE delivery_id = ?',
      ).run(nowMs, nowMs, deliveryId);
      const row = deliveryById.get(deliveryId);
      return Promise.resolve(row === undefined ? null : deliveryOf(row));
    },
  };
};
