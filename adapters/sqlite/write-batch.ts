import type { SqliteDatabase } from './open-database';
import { walSyncOf } from './wal-sync';

/**
 * Group commit for small writes on one connection: the first write of an event-loop turn opens a
 * transaction, every write of the turn runs inside it (in its own savepoint, so a failing write
 * undoes only itself), and one COMMIT at the next turn, made durable by an fdatasync of the WAL
 * on the thread pool (adapters/sqlite/wal-sync.ts) before any of their promises resolves: the
 * COMMIT itself runs synchronous=NORMAL (the level is chosen before BEGIN, as SQLite refuses to
 * change it inside a transaction) and the connection goes back to FULL for its other writers.
 * Writes see each other's effects, so decisions inside the batch stay consistent. Once a sync
 * failed (fail-stop) every write is refused with UnavailableError.
 */
type WriteBatch = { run<T>(write: () => T): Promise<T> };

const batches = new WeakMap<SqliteDatabase, WriteBatch>();

/**
 * The connection's one write batch: every store on a connection shares it, since a second batch
 * would BEGIN inside the first's open transaction.
 */
export const createWriteBatch = (db: SqliteDatabase): WriteBatch => {
  const existing = batches.get(db);
  if (existing !== undefined) return existing;
  const batch = newWriteBatch(db);
  batches.set(db, batch);
  return batch;
};

const newWriteBatch = (db: SqliteDatabase): WriteBatch => {
  let settlers: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let open = false;
  const wal = walSyncOf(db);
  const fileBacked = !db.memory;

  const commit = (): void => {
    open = false;
    const batch = settlers;
    settlers = [];
    try {
      db.exec('COMMIT');
    } catch (error: unknown) {
      if (db.inTransaction) db.exec('ROLLBACK');
      batch.forEach((settler) => settler.reject(error));
      return;
    } finally {
      if (fileBacked && !db.inTransaction) db.exec('PRAGMA synchronous = FULL');
    }
    wal.committed().then(
      () => batch.forEach((settler) => settler.resolve()),
      (error: unknown) => batch.forEach((settler) => settler.reject(error)),
    );
  };

  const begin = (): void => {
    if (fileBacked) db.exec('PRAGMA synchronous = NORMAL');
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error: unknown) {
      if (fileBacked) db.exec('PRAGMA synchronous = FULL');
      throw error;
    }
  };

  return {
    run<T>(write: () => T): Promise<T> {
      const failed = wal.failure();
      if (failed !== null) return Promise.reject(failed);
      if (!open) {
        begin();
        open = true;
        setImmediate(commit);
      }
      db.exec('SAVEPOINT batched_write');
      let value: T;
      try {
        value = write();
        db.exec('RELEASE batched_write');
      } catch (error: unknown) {
        db.exec('ROLLBACK TO batched_write');
        db.exec('RELEASE batched_write');
        return Promise.reject(error);
      }
      return new Promise<T>((resolve, reject) =>
        settlers.push({ resolve: () => resolve(value), reject }),
      );
    },
  };
};
