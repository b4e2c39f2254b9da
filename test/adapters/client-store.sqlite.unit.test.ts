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
