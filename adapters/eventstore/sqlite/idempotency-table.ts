import type {
  IdempotencyRecord,
  StoredIdempotencyRecord,
} from '../../../domain/ports/event-store.port';
import type { StoredResponse } from '../../../domain/ports/idempotency-store.port';
import { ensureSchema, type SqliteDatabase } from '../../sqlite/open-database';

const SCHEMA_COMPONENT = 'idempotency_records';
const SCHEMA_VERSION = 1;

// In the event store's own file, so that a key and the events of its request commit in one
// transaction. Rows go in rowid order (arrival), only the (scope, key) index is keyed at random.
const createTables = (db: SqliteDatabase): void => {
  db.exec(`
    CREATE TABLE IF NOT EXISTS idempotency_records (
      id INTEGER PRIMARY KEY,
      scope TEXT NOT NULL,
      key TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      response_json TEXT NOT NULL,
      created_at_ms INTEGER NOT NULL,
      position INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX IF NOT EXISTS idempotency_records_by_key
      ON idempotency_records (scope, key);
    CREATE INDEX IF NOT EXISTS idempotency_records_by_age
      ON idempotency_records (created_at_ms);
  `);
};

type RecordRow = {
  scope: string;
  key: string;
  fingerprint: string;
  response_json: string;
  created_at_ms: bigint;
  position: bigint;
};

const toStored = (row: RecordRow): StoredIdempotencyRecord => ({
  scope: row.scope,
  key: row.key,
  fingerprint: row.fingerprint,
  response: JSON.parse(row.response_json) as StoredResponse,
  createdAtMs: Number(row.created_at_ms),
  position: row.position,
});

export type IdempotencyTable = ReturnType<typeof openIdempotencyTable>;

/** The idempotency records of appendMulti, behind prepared statements. */
export const openIdempotencyTable = (db: SqliteDatabase) => {
  ensureSchema(db, SCHEMA_COMPONENT, SCHEMA_VERSION, createTables);
  const find = db
    .prepare<[string, string], RecordRow>(
      'SELECT scope, key, fingerprint, response_json, created_at_ms, position ' +
        'FROM idempotency_records WHERE scope = ? AND key = ?',
    )
    .safeIntegers(true);
  const insert = db.prepare(
    'INSERT INTO idempotency_records ' +
      '(scope, key, fingerprint, response_json, created_at_ms, position) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const purge = db.prepare('DELETE FROM idempotency_records WHERE created_at_ms < ?');
  return {
    find: (scope: string, key: string): StoredIdempotencyRecord | null => {
      const row = find.get(scope, key);
      return row === undefined ? null : toStored(row);
    },
    insert: (record: IdempotencyRecord, position: bigint): void => {
      const { scope, key, fingerprint, response, createdAtMs } = record;
      insert.run(scope, key, fingerprint, JSON.stringify(response), createdAtMs, position);
    },
    purgeOlderThan: (createdBeforeMs: number): number => purge.run(createdBeforeMs).changes,
  };
};
