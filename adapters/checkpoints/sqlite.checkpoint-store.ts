import type { CheckpointStore } from '../../domain/ports/checkpoint-store.port';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';

/** Checkpoints in a table of the service's SQLite file; positions kept as decimal text (bigint-safe). */
export const createSqliteCheckpointStore = (db: SqliteDatabase): CheckpointStore => {
  ensureSchema(db, 'checkpoints', 1, (database) =>
    database.exec(
      'CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position TEXT NOT NULL)',
    ),
  );
  const select = db.prepare<[string], { position: string }>(
    'SELECT position FROM checkpoints WHERE name = ?',
  );
  const upsert = db.prepare(
    'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
  );
  return {
    load: (name) => {
      const row = select.get(name);
      return Promise.resolve(row === undefined ? null : BigInt(row.position));
    },
    save: (name, position) => {
      upsert.run(name, position.toString());
      return Promise.resolve();
    },
  };
};
