import { assert } from '../../domain/assert';
import type {
  BeginResult,
  IdempotencyStore,
  StoredResponse,
} from '../../domain/ports/idempotency-store.port';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';
import { createWriteBatch } from '../sqlite/write-batch';

type KeyRow = {
  fingerprint: string;
  owner_id: string;
  state: 'in_flight' | 'completed';
  response_json: string | null;
};

const SCHEMA_VERSION = 2;
const COLUMNS = 'scope, key, fingerprint, owner_id, state, response_json, created_at_ms';
// Rows live in rowid order (the order keys arrive, so each commit appends to the same few pages)
// and only the small (scope, key) index is keyed at random: a version-1 table kept whole rows,
// response included, in a random-keyed B-tree, and wrote twice as many pages per request.
const tableSql = (name: string): string => `
  CREATE TABLE IF NOT EXISTS ${name} (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_flight', 'completed')),
    response_json TEXT,
    created_at_ms INTEGER NOT NULL
  );`;
const INDEX_SQL = `
  CREATE UNIQUE INDEX IF NOT EXISTS idempotency_keys_by_key ON idempotency_keys (scope, key);
  CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys (created_at_ms);
`;

/** Version 1 → 2: the same rows, oldest first, into the rowid table. */
const migrateFromVersion1 = (db: SqliteDatabase): void => {
  db.exec(`
    ${tableSql('idempotency_keys_v2')}
    INSERT INTO idempotency_keys_v2 (${COLUMNS})
      SELECT ${COLUMNS} FROM idempotency_keys ORDER BY created_at_ms;
    DROP TABLE idempotency_keys;
    ALTER TABLE idempotency_keys_v2 RENAME TO idempotency_keys;
  `);
};

const createTables = (db: SqliteDatabase, versionFound: number | null): void => {
  if (versionFound === 1) migrateFromVersion1(db);
  db.exec(tableSql('idempotency_keys') + INDEX_SQL);
};

/**
 * The IdempotencyStore in a table of a SQLite database opened by openSqliteDatabase (WAL,
 * synchronous=FULL); the caller owns and closes the database. One row per (scope, key). Writes are
 * group-committed (one fsync per event-loop turn, each promise resolved after it) inside IMMEDIATE
 * transactions, so that two connections racing for one key cannot both start it.
 */
export const createSqliteIdempotencyStore = (database: SqliteDatabase): IdempotencyStore => {
  ensureSchema(database, 'idempotency', SCHEMA_VERSION, createTables);
  const selectRow = database.prepare<[string, string], KeyRow>(
    `SELECT fingerprint, owner_id, state, response_json FROM idempotency_keys
     WHERE scope = ? AND key = ?`,
  );
  const insertRow = database.prepare<[string, string, string, string, number]>(
    `INSERT INTO idempotency_keys (scope, key, fingerprint, owner_id, state, created_at_ms)
     VALUES (?, ?, ?, ?, 'in_flight', ?)`,
  );
  const takeOver = database.prepare<[string, string, string]>(
    'UPDATE idempotency_keys SET owner_id = ? WHERE scope = ? AND key = ?',
  );
  const completeRow = database.prepare<[string, string, string]>(
    `UPDATE idempotency_keys SET state = 'completed', response_json = ?
     WHERE scope = ? AND key = ? AND state = 'in_flight'`,
  );
  const deleteInFlight = database.prepare<[string, string, string]>(
    `DELETE FROM idempotency_keys
     WHERE scope = ? AND key = ? AND owner_id = ? AND state = 'in_flight'`,
  );
  const deleteOld = database.prepare<[number]>(
    'DELETE FROM idempotency_keys WHERE created_at_ms < ?',
  );

  const beginTransaction = database.transaction(
    (scope: string, key: string, fingerprint: string, ownerId: string, nowMs: number) => {
      const row = selectRow.get(scope, key);
      if (row === undefined) {
        insertRow.run(scope, key, fingerprint, ownerId, nowMs);
        return 'started' as const;
      }
      return decideExisting(row, fingerprint, ownerId, () => takeOver.run(ownerId, scope, key));
    },
  );

  const batch = createWriteBatch(database);
  return {
    begin: (scope, key, fingerprint, ownerId, nowMs) =>
      batch.run(() => beginTransaction(scope, key, fingerprint, ownerId, nowMs)),
    complete: (scope, key, response) =>
      batch.run(() => {
        const { changes } = completeRow.run(JSON.stringify(response), scope, key);
        assert(changes === 1 || selectRow.get(scope, key) !== undefined, 'complete: unknown key');
      }),
    release: (scope, key, ownerId) => batch.run(() => void deleteInFlight.run(scope, key, ownerId)),
    purgeOlderThan: (createdBeforeMs) => batch.run(() => deleteOld.run(createdBeforeMs).changes),
  };
};

/** What an existing row means for a new attempt; takeOver claims a crashed owner's row. */
const decideExisting = (
  row: KeyRow,
  fingerprint: string,
  ownerId: string,
  takeOver: () => void,
): BeginResult => {
  if (row.fingerprint !== fingerprint) return { state: 'fingerprint_mismatch' };
  if (row.state === 'completed') {
    assert(row.response_json !== null, 'idempotency row completed without a response');
    return { state: 'completed', response: JSON.parse(row.response_json) as StoredResponse };
  }
  if (row.owner_id === ownerId) return { state: 'in_flight' };
  takeOver();
  return 'started';
};
