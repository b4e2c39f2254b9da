import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import { createWriteBatch } from '../../../adapters/sqlite/write-batch';

const openPair = () => {
  const path = join(mkdtempSync(join(tmpdir(), 'ledger-batch-')), 'batch.sqlite');
  const writer = openSqliteDatabase(path);
  writer.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE)');
  return { writer, reader: openSqliteDatabase(path) };
};
const countRows = (db: ReturnType<typeof openSqliteDatabase>): number =>
  (db.prepare('SELECT COUNT(*) AS n FROM rows').get() as { n: number }).n;

describe('sqlite write batch', () => {
  it('commits every write of one turn together, before any promise resolves', async () => {
    const { writer, reader } = openPair();
    const batch = createWriteBatch(writer);
    const insert = writer.prepare('INSERT INTO rows (label) VALUES (?)');
    const seenByOthersAtResolve: number[] = [];
    const writes = Array.from({ length: 50 }, (_, index) =>
      batch
        .run(() => insert.run(`row-${index}`).lastInsertRowid)
        .then(() => seenByOthersAtResolve.push(countRows(reader))),
    );
    expect(writer.inTransaction).toBe(true);
    expect(countRows(reader)).toBe(0);
    await Promise.all(writes);
    expect(seenByOthersAtResolve.every((count) => count === 50)).toBe(true);
    expect(writer.inTransaction).toBe(false);
  });

  it('undoes only the write that failed', async () => {
    const { writer, reader } = openPair();
    const batch = createWriteBatch(writer);
    const insert = writer.prepare('INSERT INTO rows (label) VALUES (?)');
    const results = await Promise.allSettled([
      batch.run(() => insert.run('a')),
      batch.run(() => {
        insert.run('b');
        insert.run('a');
      }),
      batch.run(() => insert.run('c')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(reader.prepare('SELECT label FROM rows ORDER BY label').all()).toEqual([
      { label: 'a' },
      { label: 'c' },
    ]);
  });

  it('lets writes of one batch see each other', async () => {
    const { writer } = openPair();
    const batch = createWriteBatch(writer);
    await batch.run(() => writer.prepare('INSERT INTO rows (label) VALUES (?)').run('x'));
    const [first, second] = await Promise.all([
      batch.run(() => writer.prepare("INSERT INTO rows (label) VALUES ('y')").run().changes),
      batch.run(() => countRows(writer)),
    ]);
    expect([first, second]).toEqual([1, 2]);
  });
});
