import type { SqliteDatabase } from './open-database';

/**
 * Group commit for small writes on one connection: the first write of an event-loop turn opens a
 * transaction, every write of the turn runs inside it (in its own savepoint, so a failing write
 * undoes only itself), and one COMMIT — one fsync under synchronous=FULL — at the next turn
 * makes all of them durable before any of their promises resolves. Writes see each other's
 * effects, so decisions inside the batch stay consistent.
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
    }
    batch.forEach((settler) => settler.resolve());
  };

  return {
    run<T>(write: () => T): Promise<T> {
      if (!open) {
        db.exec('BEGIN IMMEDIATE');
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
