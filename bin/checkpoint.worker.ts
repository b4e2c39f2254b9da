import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteDatabase, type SqliteDatabase } from '../adapters/sqlite/open-database';
import { assert } from '../domain/assert';
import type { LogLevel } from './config';
import { createLogger } from './logger';

/**
 * The WAL checkpointer's thread: every intervalMs it copies what the service's SQLite files have
 * in their write-ahead logs back into the database files (PRAGMA wal_checkpoint(PASSIVE), which
 * never waits for or blocks a reader or a writer). The checkpoint's fsyncs happen here, not in
 * the thread that appends; the writers only checkpoint themselves past a safety-net size.
 */
export type CheckpointWorkerData = { paths: string[]; intervalMs: number; logLevel: LogLevel };

const run = (): void => {
  const port = parentPort;
  assert(port !== null, 'checkpoint.worker must run as a worker thread');
  const settings = workerData as CheckpointWorkerData;
  const logger = createLogger(settings.logLevel).child({ thread: 'checkpoint' });
  const databases: SqliteDatabase[] = settings.paths.map(openSqliteDatabase);
  const timer = setInterval(() => {
    for (const database of databases) {
      try {
        database.pragma('wal_checkpoint(PASSIVE)');
      } catch (error: unknown) {
        logger.warn('wal_checkpoint_failed', { file: database.name, error: String(error) });
      }
    }
  }, settings.intervalMs);
  port.on('message', (message: { kind: string }) => {
    if (message.kind !== 'stop') return;
    clearInterval(timer);
    databases.forEach((database) => database.close());
    port.close();
  });
};

run();
