import { createSqliteClientStore } from '../../adapters/clients/sqlite.client-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { clientStoreContract } from './client-store.contract';

clientStoreContract('sqlite :memory:', () =>
  Promise.resolve(createSqliteClientStore(openSqliteDatabase(':memory:'))),
);

describe('sqlite client store', () => {
  it('refuses a row whose role is not a known role (a corrupt or newer file)', async () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteClientStore(database);
    database
      .prepare(
        'INSERT INTO clients (client_id, role, key_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run('x', 'superuser', 'hash', '2025-01-31T12:00:00.000Z', null);
    await expect(store.findById('x')).rejects.toThrow(/unknown role 'superuser'/);
  });
});

describe('sqlite client store: modes', () => {
  it('reads the clients of a version-2 file (before modes) as live', async () => {
    const database = openSqliteDatabase(':memory:');
    database.exec(`
      CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
      INSERT INTO schema_versions VALUES ('clients', 2);
      CREATE TABLE clients (client_id TEXT PRIMARY KEY, role TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT,
        secret_hash TEXT) WITHOUT ROWID;
      INSERT INTO clients VALUES ('shop', 'merchant', 'hash', '2025-01-31T12:00:00.000Z', NULL, 's');
    `);
    const store = createSqliteClientStore(database);
    await expect(store.findById('shop')).resolves.toMatchObject({ clientId: 'shop', mode: 'live' });
    await expect(store.secretHashOf('shop')).resolves.toBe('s');
  });

  it('keeps a test client test, and refuses a row with an unknown mode', async () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteClientStore(database);
    const client = {
      clientId: 'sandbox-shop',
      role: 'merchant',
      mode: 'test',
      keyHash: 'hash-1',
      createdAt: '2025-01-31T12:00:00.000Z',
      revokedAt: null,
    } as const;
    await store.create(client);
    await expect(store.findByKeyHash('hash-1')).resolves.toEqual(client);
    database.prepare("UPDATE clients SET mode = 'demo' WHERE client_id = ?").run('sandbox-shop');
    await expect(store.findById('sandbox-shop')).rejects.toThrow(/unknown mode 'demo'/);
  });
});
