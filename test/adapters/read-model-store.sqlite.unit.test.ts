import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { readModelStoreContract } from './read-model-store.contract';

readModelStoreContract('sqlite', () => Promise.resolve(createSqliteReadModelStore({ path: ':memory:' })));

describe('the SQLite read-model store', () => {
  it('rolls back the document changes when the checkpoint cannot be written', async () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteReadModelStore({ database });
    await store.ensureCollection({ name: 'things', indexes: [] });
    database.exec("CREATE TRIGGER refuse BEFORE INSERT ON rm_checkpoints BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
    const change = { kind: 'put', collection: 'things', id: 'a', document: { n: 1 } } as const;
    await expect(store.commit([change], { name: 'c', position: 1n, occurredAt: 'x' })).rejects.toMatchObject({ message: 'disk full' });
    await expect(store.get('things', 'a')).resolves.toBeNull();
  });

  it('refuses collection and field names that are not identifiers', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    await expect(store.ensureCollection({ name: 'x; DROP TABLE y', indexes: [] })).rejects.toThrow('bad collection name');
    await store.ensureCollection({ name: 'things', indexes: [] });
    await expect(store.find('things', { where: { "a') OR 1=1 --": 'x' }, range: null, orderBy: { field: 'a', direction: 'asc' }, offset: 0, limit: 1 })).rejects.toThrow('bad field name');
  });
});
