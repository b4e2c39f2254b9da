import { join } from 'node:path';
import type { Logger } from 'winston';
import type { CheckpointWorkerData } from './checkpoint.worker';
import type { LogLevel } from './config';
import { superviseWorker } from './supervised-worker';

const WORKER_SCRIPT = join(__dirname, 'checkpoint.worker.js');

/** WAL checkpoints of the service's SQLite files, from their own thread (see checkpoint.worker). */
export const CHECKPOINT_LIMITS = {
  intervalMs: 200,
  /**
   * Writers still checkpoint by themselves once their WAL holds this many pages (about 80 MB of
   * 4 kB pages): only if the checkpoint thread is dead or far behind.
   */
  writerAutoCheckpointPages: 20_000,
  restartPauseMs: 1000,
  stopGraceMs: 5000,
};

export const startCheckpointThread = (options: {
  paths: readonly string[];
  logLevel: LogLevel;
  logger: Logger;
  workerScript?: string;
}): { stop: () => Promise<void> } => {
  const workerData: CheckpointWorkerData = {
    paths: [...options.paths],
    intervalMs: CHECKPOINT_LIMITS.intervalMs,
    logLevel: options.logLevel,
  };
  const worker = superviseWorker({
    name: 'checkpoint',
    script: options.workerScript ?? WORKER_SCRIPT,
    workerData,
    restartPauseMs: CHECKPOINT_LIMITS.restartPauseMs,
    stopGraceMs: CHECKPOINT_LIMITS.stopGraceMs,
    logger: options.logger,
    onMessage: () => undefined,
  });
  return { stop: () => worker.stop() };
};
