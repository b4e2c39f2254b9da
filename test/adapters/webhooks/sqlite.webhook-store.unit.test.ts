import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import { createSqliteWebhookStore } from '../../../adapters/webhooks/sqlite.webhook-store';
import type { WebhookEndpoint } from '../../../domain/ports/webhook-store.port';

const endpoint: WebhookEndpoint = {
  endpointId: '0191a1b2-0000-7000-8000-0000000000e1',
  kind: 'endpoint',
  merchantId: 'shop',
  mode: 'test',
  url: 'https://receiver.example/hooks',
  eventTypes: ['payment.succeeded'],
  description: '',
  enabled: true,
  secret: 'whsec_current',
  previousSecret: null,
  failingSinceMs: null,
  createdAtMs: 1_700_000_000_000,
};

describe('sqlite webhook store: modes', () => {
  it("keeps an endpoint's mode", async () => {
    const store = createSqliteWebhookStore(openSqliteDatabase(':memory:'));
    await store.createEndpoint(endpoint);
    await expect(store.findEndpoint(endpoint.endpointId)).resolves.toEqual(endpoint);
  });

  it('reads the endpoints of a version-1 file (before modes) as live', async () => {
    const database = openSqliteDatabase(':memory:');
    database.exec(`
      CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
      INSERT INTO schema_versions VALUES ('webhooks', 1);
      CREATE TABLE webhook_endpoints (
        endpoint_id TEXT PRIMARY KEY, kind TEXT NOT NULL, merchant_id TEXT NOT NULL,
        url TEXT NOT NULL, event_types TEXT NOT NULL, description TEXT NOT NULL,
        enabled INTEGER NOT NULL, secret TEXT NOT NULL, previous_secret TEXT,
        previous_expires_at_ms INTEGER, failing_since_ms INTEGER, created_at_ms INTEGER NOT NULL);
      INSERT INTO webhook_endpoints VALUES ('e-old', 'endpoint', 'shop', 'https://r.example/',
        '["payment.succeeded"]', '', 1, 'whsec_old', NULL, NULL, NULL, 1700000000000);
    `);
    const store = createSqliteWebhookStore(database);
    await expect(store.findEndpoint('e-old')).resolves.toMatchObject({
      endpointId: 'e-old',
      mode: 'live',
    });
  });
});

describe('sqlite webhook store: the fan-out’s endpoint lists', () => {
  it('reads a merchant’s endpoints once until an endpoint changes, and every change shows at once', async () => {
    const database = openSqliteDatabase(':memory:');
    // How often the store reads a merchant's endpoint list from the database.
    let listReads = 0;
    const watched = new Proxy(database, {
      get: (target, name, receiver) =>
        name === 'prepare'
          ? (sql: string) => {
              const statement = target.prepare(sql);
              if (!sql.includes('WHERE merchant_id = ?')) return statement;
              return new Proxy(statement, {
                get: (inner, key) =>
                  key === 'all'
                    ? (...args: unknown[]) => ((listReads += 1), inner.all(...args))
                    : (Reflect.get(inner, key, inner) as unknown),
              });
            }
          : (Reflect.get(target, name, receiver) as unknown),
    });
    const store = createSqliteWebhookStore(watched);
    await expect(store.listEndpoints('shop', 10)).resolves.toEqual([]);
    await expect(store.listEndpoints('shop', 10)).resolves.toEqual([]);
    expect(listReads).toBe(1);
    await store.createEndpoint(endpoint);
    await expect(store.listEndpoints('shop', 10)).resolves.toEqual([endpoint]);
    await store.disableEndpoint(endpoint.endpointId);
    await expect(store.listEndpoints('shop', 10)).resolves.toEqual([
      { ...endpoint, enabled: false },
    ]);
    await store.listEndpoints('shop', 10);
    expect(listReads).toBe(3);
    await store.deleteEndpoint(endpoint.endpointId, 1_700_000_001_000);
    await expect(store.listEndpoints('shop', 10)).resolves.toEqual([]);
  });
});
