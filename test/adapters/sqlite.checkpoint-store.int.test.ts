import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteCheckpointStore } from '../../adapters/checkpoints/sqlite.checkpoint-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { createWriteBatch } from '../../adapters/sqlite/write-batch';
import { checkpointStoreContract } from './checkpoint-store.contract';
import { watchSynchronousLevels } from '../support/synchronous-levels';

checkpointStoreContract('sqlite :memory:', () =>
  Promise.resolve(createSqliteCheckpointStore(openSqliteDatabase(':memory:'))),
);

describe('sqlite checkpoint store on a file', () => {
  it('answers a failed save (a full disk) with a rejected promise, never an exception thrown', async () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteCheckpointStore(database);
    database.exec('DROP TABLE checkpoints'); // The upsert now fails as a full disk would.
    let saving: Promise<void> | null = null;
    expect(() => (saving = store.save('ledger-deadlines', 7n))).not.toThrow();
    const refusal = await (saving as unknown as Promise<void>).then(
      () => null,
      (error: unknown) => error,
    );
    expect(String(refusal)).toMatch(/no such table: checkpoints/);
    database.close();
  });

  it('keeps checkpoints across a reopen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ledger-checkpoints-')), 'ledger.sqlite');
    const first = openSqliteDatabase(path);
    await createSqliteCheckpointStore(first).save('supervisor', 42n);
    first.close();
    const second = openSqliteDatabase(path);
    await expect(createSqliteCheckpointStore(second).load('supervisor')).resolves.toBe(42n);
    second.close();
  });

  it('saves without an fsync of its own (synchronous=NORMAL for the save) and leaves the file synchronous=FULL', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ledger-checkpoints-')), 'ledger.sqlite');
    const database = openSqliteDatabase(path);
    // The `synchronous` setting each upsert committed under (2 = FULL, 1 = NORMAL).
    const { watched, levels: upsertSync } = watchSynchronousLevels(
      database,
      'INSERT INTO checkpoints',
    );
    const store = createSqliteCheckpointStore(watched);
    await store.save('relay', 1n);
    await store.save('relay', 2n);
    expect(upsertSync).toEqual([1, 1]);
    expect(database.pragma('synchronous', { simple: true })).toBe(2);
    database.close();
    const reopened = openSqliteDatabase(path);
    await expect(createSqliteCheckpointStore(reopened).load('relay')).resolves.toBe(2n);
    reopened.close();
  });

  it('saves inside the write batch a turn has open on the same file (idempotency keys), durable with its commit', async () => {
    const database = openSqliteDatabase(
      join(mkdtempSync(join(tmpdir(), 'ledger-checkpoints-')), 'ledger.sqlite'),
    );
    const store = createSqliteCheckpointStore(database);
    const batched = createWriteBatch(database).run(() => 'key stored');
    expect(database.inTransaction).toBe(true);
    await store.save('saga-sweeper', 9n);
    await expect(batched).resolves.toBe('key stored');
    expect(database.inTransaction).toBe(false);
    await expect(store.load('saga-sweeper')).resolves.toBe(9n);
    expect(database.pragma('synchronous', { simple: true })).toBe(2);
    database.close();
  });
});
