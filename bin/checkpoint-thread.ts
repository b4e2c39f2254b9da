import { join } from 'node:path';
import type { Logger } from 'winston';
import type { CheckpointWorkerData } from './checkpoint.worker';
import { CHECKPOINT_LIMITS, type LogLevel } from './config';
import { superviseWorker } from './supervised-worker';

const WORKER_SCRIPT = join(__dirname, 'checkpoint.worker.js');

/** WAL checkpoints of the service's SQLite files, from their own thread (see checkpoint.worker). */
export const startCheckpointThread = (options: {
  paths: readonly string[];
  logLevel: LogLevel;
  logger: Logger;
  workerScript?: string;
}): { stop: () => Promise<void> } => {
  const workerData: CheckpointWorkerData = {
    paths: [...options.paths],
    pollMs: CHECKPOINT_LIMITS.pollMs,
    intervalMs: CHECKPOINT_LIMITS.intervalMs,
    walPagesMax: CHECKPOINT_LIMITS.walPagesMax,
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
