import type { SqliteDatabase } from './open-database';

/**
 * Runs `write` as a commit of its own without an fsync (synchronous=NORMAL for that one commit,
 * on a connection otherwise FULL): it survives a kill -9, as the OS holds the WAL, and the next
 * synchronous commit on the file makes it durable. Inside a transaction already open on the
 * connection (a write batch of the turn: adapters/sqlite/write-batch.ts) the level cannot change,
 * and the write joins that transaction, made durable by its commit as any other write.
 */
export const commitWithoutFsync = <T>(db: SqliteDatabase, write: () => T): T => {
  if (db.inTransaction) return write();
  // A pragma takes effect when compiled: exec() compiles it each call, without the statement
  // object and result rows db.pragma() builds.
  db.exec('PRAGMA synchronous = NORMAL');
  try {
    return write();
  } finally {
    db.exec('PRAGMA synchronous = FULL');
  }
};

/**
 * Items queued during one event-loop turn, written by `writeAll` (a db.transaction) in one commit
 * without an fsync at the next turn (setImmediate), instead of one commit each: a commit writes
 * every page it touched into the WAL again. `flush()` writes what is queued at once: a store calls
 * it before any other use of the connection, so that it reads its own writes and keeps their
 * order. A write that fails keeps its items queued; the next `add` or `flush` writes them again
 * at once and throws what it throws, so that a store that cannot write refuses as before.
 */
export const createTurnCommits = <T>(
  db: SqliteDatabase,
  writeAll: (items: readonly T[]) => void,
) => {
  let queued: T[] = [];
  let scheduled = false;
  let failed = false;
  const flush = (): void => {
    if (queued.length === 0) return;
    const items = queued;
    queued = [];
    try {
      commitWithoutFsync(db, () => writeAll(items));
      failed = false;
    } catch (error: unknown) {
      queued = items.concat(queued);
      failed = true;
      throw error;
    }
  };
  const flushTurn = (): void => {
    scheduled = false;
    try {
      flush();
    } catch {
      // Kept queued: the next add or flush writes them again and throws.
    }
  };
  return {
    add: (item: T): void => {
      queued.push(item);
      if (failed) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flushTurn);
      }
    },
    flush,
  };
};
