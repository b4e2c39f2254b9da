import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteSnapshotStore } from '../../adapters/snapshots/sqlite.snapshot-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { snapshotStoreContract } from './snapshot-store.contract';

snapshotStoreContract('sqlite :memory:', () =>
  Promise.resolve(createSqliteSnapshotStore(openSqliteDatabase(':memory:'))),
);

describe('sqlite snapshot store on a file', () => {
  it('keeps snapshots across a reopen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ledger-snapshots-')), 'service.sqlite');
    const first = openSqliteDatabase(path);
    const saved = {
      stream: 'traffic-u1',
      revision: 999,
      position: 123_456n,
      lastHash: 'c'.repeat(64),
      schemaVersion: 1,
      state: { quotaBytes: 10 },
    };
    await createSqliteSnapshotStore(first).save(saved);
    first.close();
    const second = openSqliteDatabase(path);
    await expect(createSqliteSnapshotStore(second).load('traffic-u1')).resolves.toEqual(saved);
    second.close();
  });
});
