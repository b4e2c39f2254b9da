import type { JsonValue } from '../../domain/ports/event-store.port';
import type { SavedSnapshot, SnapshotStore } from '../../domain/ports/snapshot-store.port';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';

type SnapshotRow = {
  revision: number;
  position: string;
  last_hash: string;
  schema_version: number;
  state_json: string;
};

const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS snapshots (
    stream TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    position TEXT NOT NULL,
    last_hash TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    state_json TEXT NOT NULL
  ) STRICT;
`;

/**
 * Snapshots in a table of the service's SQLite file (the caller owns the database), one row per
 * stream; positions as decimal text (bigint-safe). Whatever the event store, snapshots stay a
 * local cache: each load is checked against the log before it is used.
 */
export const createSqliteSnapshotStore = (db: SqliteDatabase): SnapshotStore => {
  ensureSchema(db, 'snapshots', 1, (database) => database.exec(SCHEMA_SQL));
  const select = db.prepare<[string], SnapshotRow>(
    `SELECT revision, position, last_hash, schema_version, state_json
     FROM snapshots WHERE stream = ?`,
  );
  const upsert = db.prepare<[string, number, string, string, number, string]>(
    `INSERT INTO snapshots (stream, revision, position, last_hash, schema_version, state_json)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision,
       position = excluded.position, last_hash = excluded.last_hash,
       schema_version = excluded.schema_version, state_json = excluded.state_json`,
  );
  const streamsAfter = db
    .prepare<[string, number], string>(
      'SELECT stream FROM snapshots WHERE stream > ? ORDER BY stream LIMIT ?',
    )
    .pluck();
  return {
    load: (stream) => {
      const row = select.get(stream);
      if (row === undefined) return Promise.resolve(null);
      const snapshot: SavedSnapshot = {
        stream,
        revision: row.revision,
        position: BigInt(row.position),
        lastHash: row.last_hash,
        schemaVersion: row.schema_version,
        state: JSON.parse(row.state_json) as JsonValue,
      };
      return Promise.resolve(snapshot);
    },
    save: (snapshot) => {
      const { stream, revision, position, lastHash, schemaVersion, state } = snapshot;
      const stateJson = JSON.stringify(state);
      upsert.run(stream, revision, position.toString(), lastHash, schemaVersion, stateJson);
      return Promise.resolve();
    },
    listStreams: (afterStream, countMax) =>
      Promise.resolve(streamsAfter.all(afterStream ?? '', countMax)),
  };
};
