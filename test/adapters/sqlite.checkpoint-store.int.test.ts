import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteCheckpointStore } from '../../adapters/checkpoints/sqlite.checkpoint-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { checkpointStoreContract } from './checkpoint-store.contract';

checkpointStoreContract('sqlite :memory:', () =>
  Promise.resolve(createSqliteCheckpointStore(openSqliteDatabase(':memory:'))),
);

describe('sqlite checkpoint store on a file', () => {
  it('keeps checkpoints across a reopen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ledger-checkpoints-')), 'ledger.sqlite');
    const first = openSqliteDatabase(path);
    await createSqliteCheckpointStore(first).save('supervisor', 42n);
    first.close();
    const second = openSqliteDatabase(path);
    await expect(createSqliteCheckpointStore(second).load('supervisor')).resolves.toBe(42n);
    second.close();
  });
});
