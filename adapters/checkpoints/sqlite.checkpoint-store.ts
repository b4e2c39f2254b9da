import type { CheckpointStore } from '../../domain/ports/checkpoint-store.port';
import { commitWithoutFsync } from '../sqlite/commit-without-fsync';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';

/**
 * Checkpoints in a table of the service's SQLite file; positions kept as decimal text (bigint-safe).
 * A save commits without an fsync of its own (synchronous=NORMAL for that one commit, as the
 * sandbox's observed outcomes): it survives a kill -9, as the OS holds the WAL, and the next
 * synchronous commit on the file makes it durable; a power cut may take the last saves back, and
 * the follower then reads again from an older position, which every follower of the log takes
 * (port). The relay, the saga sweeper and the ledger's deadlines save every second or so on the
 * API thread: no fsync stall there.
 */
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
    // A failed save (a full disk) is a rejected promise, never an exception thrown at the caller.
    save: (name, position) => {
      try {
        commitWithoutFsync(db, () => upsert.run(name, position.toString()));
        return Promise.resolve();
      } catch (error: unknown) {
        return Promise.reject(error);
      }
    },
  };
};
