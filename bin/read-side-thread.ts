import { join } from 'node:path';
import type { Logger } from 'winston';
import type { EventStore } from '../domain/ports/event-store.port';
import {
  createReadSideMirror,
  type FromReadSideHost,
  type ToReadSideHost,
} from '../projections/read-side-link';
import { READ_SIDE_LIMITS, type Config } from './config';
import { openReadModelStore, readSideRoutes, type RunningReadSide } from './read-side';
import type { ReadSideWorkerData } from './read-side.worker';
import { superviseWorker, type SupervisedWorker } from './supervised-worker';

const WORKER_SCRIPT = join(__dirname, 'read-side.worker.js');
/** The defaults are the service's; tests run other worker scripts. */
type ReadSideThreadOptions = {
  workerScript?: string;
  restartPauseMs?: number;
  /** The API thread's commit counter (bin/append-signal.ts); absent: the worker polls only. */
  appendSignal?: Int32Array;
};

/**
 * The service's read side: the projection runner in a worker thread (its CPU off the API thread),
 * the queries on this thread through a mirror with its own read-model connection. A worker that
 * dies is logged and started again; it resumes from its last committed checkpoint.
 */
export const startReadSideThread = async (
  config: Config,
  eventStore: EventStore,
  logger: Logger,
  options: ReadSideThreadOptions = {},
): Promise<RunningReadSide> => {
  const workerScript = options.workerScript ?? WORKER_SCRIPT;
  const restartPauseMs = options.restartPauseMs ?? READ_SIDE_LIMITS.workerRestartPauseMs;
  const store = await openReadModelStore(config);
  const workerData: ReadSideWorkerData = {
    dataDir: config.dataDir,
    mongodbUrl: config.mongodbUrl,
    eventStoreUrl: config.eventStoreUrl,
    logLevel: config.logLevel,
    appendSignal: options.appendSignal ?? null,
  };
  const listeners = new Set<(message: FromReadSideHost) => void>();
  let supervised: SupervisedWorker | null = null;
  const mirror = createReadSideMirror({
    store,
    eventStore,
    limits: READ_SIDE_LIMITS,
    nowMs: Date.now,
    link: {
      post: (message: ToReadSideHost) => supervised?.post(message),
      onMessage: (listener) => listeners.add(listener),
    },
  });
  const worker = superviseWorker({
    name: 'read_side',
    script: workerScript,
    workerData,
    restartPauseMs,
    stopGraceMs: READ_SIDE_LIMITS.workerStopGraceMs,
    logger,
    onMessage: (message) => listeners.forEach((listener) => listener(message as FromReadSideHost)),
  });
  supervised = worker;
  // A worker that cannot start (bad store URL, unreadable file) stops the start, as inline would.
  const exitedEarly = new Promise<never>((_resolve, reject) =>
    worker.first.once('exit', (exitCode) =>
      reject(new Error(`the read-side worker exited with code ${exitCode} before starting`)),
    ),
  );
  try {
    await Promise.race([mirror.ready, exitedEarly]);
  } catch (error: unknown) {
    await worker.stop();
    await store.close();
    throw error;
  }

  const stop = async (): Promise<void> => {
    mirror.close();
    await worker.stop();
    await store.close();
  };
  return { readSide: mirror, routes: readSideRoutes(mirror, eventStore, logger), stop };
};
