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
