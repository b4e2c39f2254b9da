import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
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
  /** Added to this thread's nice value (Linux), so the API thread wins the CPU; 0: unchanged. */
  niceIncrement: number;
  logLevel: LogLevel;
};

/** Lowers this thread's priority alone: on Linux a thread id names one thread to setpriority. */
const lowerThreadPriority = (increment: number): void => {
  const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
  assert(Number.isSafeInteger(threadId), 'checkpoint.worker: no thread id');
  setPriority(threadId, Math.min(19, getPriority(threadId) + increment));
};

const run = (): void => {
  const port = parentPort;
  assert(port !== null, 'checkpoint.worker must run as a worker thread');
  const settings = workerData as CheckpointWorkerData;
  const logger = createLogger(settings.logLevel).child({ thread: 'checkpoint' });
  if (settings.niceIncrement > 0) {
    try {
      lowerThreadPriority(settings.niceIncrement);
    } catch (error: unknown) {
      logger.warn('checkpoint_priority_unchanged', { error: String(error) });
    }
  }
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
