import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteDatabase, type SqliteDatabase } from '../adapters/sqlite/open-database';
import { assert } from '../domain/assert';
import {
  createCheckpointPolicy,
  type CheckpointPolicyLimits,
  type WalFrames,
} from './checkpoint-policy';
import type { LogLevel } from './config';
import { createLogger } from './logger';

/**
 * The WAL checkpointer's thread: every pollMs it reads how many frames each of the service's
 * SQLite files has in its write-ahead log (PRAGMA wal_checkpoint(NOOP), which copies nothing), and
 * copies them back into the database file when the policy says so (bin/checkpoint-policy.ts:
 * every intervalMs, or at once past walPagesMax) with PRAGMA wal_checkpoint(PASSIVE), which never
 * waits for or blocks a reader or a writer. The checkpoint's fsyncs happen here, not in the thread
 * that appends; the writers only checkpoint themselves past a safety-net size.
 */
export type CheckpointWorkerData = CheckpointPolicyLimits & {
  paths: string[];
  pollMs: number;
  logLevel: LogLevel;
};

const run = (): void => {
  const port = parentPort;
  assert(port !== null, 'checkpoint.worker must run as a worker thread');
  const settings = workerData as CheckpointWorkerData;
  const logger = createLogger(settings.logLevel).child({ thread: 'checkpoint' });
  const databases: SqliteDatabase[] = settings.paths.map(openSqliteDatabase);
  const policy = createCheckpointPolicy(settings, Date.now);
  const timer = setInterval(() => {
    for (const database of databases) {
      try {
        const [frames] = database.pragma('wal_checkpoint(NOOP)') as WalFrames[];
        if (frames === undefined || !policy.due(database.name, frames)) continue;
        database.pragma('wal_checkpoint(PASSIVE)');
        policy.checkpointed(database.name);
      } catch (error: unknown) {
        logger.warn('wal_checkpoint_failed', { file: database.name, error: String(error) });
      }
    }
  }, settings.pollMs);
  port.on('message', (message: { kind: string }) => {
    if (message.kind !== 'stop') return;
    clearInterval(timer);
    databases.forEach((database) => database.close());
    port.close();
  });
};

run();
