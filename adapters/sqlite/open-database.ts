import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { assert } from '../../domain/assert';

export type SqliteDatabase = Database.Database;

const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating its directory) a SQLite database with the pragmas every table of this service
 * relies on: WAL so readers never block the writer, synchronous=FULL so an acknowledged commit is
 * fsynced and survives a power cut, a busy timeout for the other processes sharing the file.
 */
export const openSqliteDatabase = (path: string): SqliteDatabase => {
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  const journalMode = db.pragma('journal_mode = WAL', { simple: true });
  assert(
    inMemory || journalMode === 'wal',
    `openSqliteDatabase: WAL refused (${String(journalMode)})`,
  );
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('foreign_keys = ON');
  return db;
};

/**
 * Brings one component's tables to `version` (a table of versions per component, because several
 * components may share one file and PRAGMA user_version would be a single shared slot). `create`
 * must be idempotent (IF NOT EXISTS) and gets the version the file had (null: none yet), so that it
 * can migrate older tables; all of it runs in one transaction. A file written by a newer version
 * is refused.
 */
export const ensureSchema = (
  db: SqliteDatabase,
  component: string,
  version: number,
  create: (db: SqliteDatabase, versionFound: number | null) => void,
): void => {
  db.transaction(() => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_versions ' +
        '(component TEXT PRIMARY KEY, version INTEGER NOT NULL)',
    );
    const row = db
      .prepare('SELECT version FROM schema_versions WHERE component = ?')
      .get(component) as { version: number } | undefined;
    if (row !== undefined && row.version > version) {
      throw new Error(`${component}: schema version ${row.version} is newer than ${version}`);
    }
    create(db, row?.version ?? null);
    db.prepare(
      'INSERT INTO schema_versions (component, version) VALUES (?, ?) ' +
        'ON CONFLICT (component) DO UPDATE SET version = excluded.version',
    ).run(component, version);
  }).immediate();
};
