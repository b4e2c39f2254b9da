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

describe('sqlite idempotency store: a version-1 file', () => {
  const VERSION_1_SQL = `
    CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
    INSERT INTO schema_versions (component, version) VALUES ('idempotency', 1);
    CREATE TABLE idempotency_keys (
      scope TEXT NOT NULL,
      key TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      owner_id TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('in_flight', 'completed')),
      response_json TEXT,
      created_at_ms INTEGER NOT NULL,
      PRIMARY KEY (scope, key)
    ) WITHOUT ROWID;
    CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at_ms);
  `;
  const response = { status: 201, body: { code: 0, msg: 'ok', data: { n: 1 } }, headers: {} };

  it('is migrated in place: completed keys replay, in-flight ones are taken over', async () => {
    const database = openFile('version-1');
    database.exec(VERSION_1_SQL);
    const insert = database.prepare('INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?, ?, ?)');
    insert.run('s', 'done', 'fp-1', 'old-boot', 'completed', JSON.stringify(response), 1);
    insert.run('s', 'crashed', 'fp-2', 'old-boot', 'in_flight', null, 2);

    const store = createSqliteIdempotencyStore(database);
    await expect(store.begin('s', 'done', 'fp-1', 'new-boot', 10)).resolves.toEqual({
      state: 'completed',
      response,
    });
    await expect(store.begin('s', 'done', 'fp-other', 'new-boot', 10)).resolves.toEqual({
      state: 'fingerprint_mismatch',
    });
    await expect(store.begin('s', 'crashed', 'fp-2', 'new-boot', 10)).resolves.toBe('started');
    await expect(store.begin('s', 'fresh', 'fp-3', 'new-boot', 10)).resolves.toBe('started');
    await expect(store.purgeOlderThan(2)).resolves.toBe(1);

    const columns = database.prepare('PRAGMA table_info(idempotency_keys)').all() as {
      name: string;
    }[];
    expect(columns.map((column) => column.name)).toContain('id');
    const version = database
      .prepare("SELECT version FROM schema_versions WHERE component = 'idempotency'")
      .pluck()
      .get();
    expect(version).toBe(2);
  });
});
