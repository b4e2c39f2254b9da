import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteIdempotencyStore } from '../../adapters/idempotency/sqlite.idempotency-store';
import { openSqliteDatabase, type SqliteDatabase } from '../../adapters/sqlite/open-database';
import { idempotencyStoreContract } from './idempotency-store.contract';

const directory = mkdtempSync(join(tmpdir(), 'ledger-idempotency-'));
const opened: SqliteDatabase[] = [];
let fileCount = 0;
const openFile = (name: string): SqliteDatabase => {
  const database = openSqliteDatabase(join(directory, `${name}.sqlite`));
  opened.push(database);
  return database;
};

afterAll(() => {
  for (const database of opened) if (database.open) database.close();
  rmSync(directory, { recursive: true, force: true });
});

idempotencyStoreContract('sqlite file', () => {
  fileCount += 1;
  return Promise.resolve(createSqliteIdempotencyStore(openFile(`contract-${fileCount}`)));
});

describe('sqlite idempotency store across a restart', () => {
  const response = { status: 201, body: { code: 0, msg: 'ok', data: null }, headers: {} };

  it('replays a completed key after the database is closed and reopened', async () => {
    const before = openFile('restart');
    const first = createSqliteIdempotencyStore(before);
    await first.begin('c1 POST /v1/x', 'k-done', 'fp', 'boot-1', 1000);
    await first.complete('c1 POST /v1/x', 'k-done', response);
    before.close();

    const second = createSqliteIdempotencyStore(openFile('restart'));
    await expect(second.begin('c1 POST /v1/x', 'k-done', 'fp', 'boot-2', 2000)).resolves.toEqual({
      state: 'completed',
      response,
    });
  });

  it("lets the next process take over the crashed process's in-flight key", async () => {
    const before = openFile('restart');
    await createSqliteIdempotencyStore(before).begin(
      'c1 POST /v1/x',
      'k-crash',
      'fp',
      'boot-1',
      1000,
    );
    before.close();

    const second = createSqliteIdempotencyStore(openFile('restart'));
    await expect(second.begin('c1 POST /v1/x', 'k-crash', 'fp', 'boot-2', 2000)).resolves.toBe(
      'started',
    );
  });

  it('sees keys begun by another connection to the same file', async () => {
    const one = createSqliteIdempotencyStore(openFile('restart'));
    const other = createSqliteIdempotencyStore(openFile('restart'));
    await one.begin('c1 POST /v1/x', 'k-shared', 'fp', 'boot-1', 1000);
    await expect(other.begin('c1 POST /v1/x', 'k-shared', 'fp', 'boot-1', 1001)).resolves.toEqual({
      state: 'in_flight',
    });
  });
});
