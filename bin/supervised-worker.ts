import { Worker } from 'node:worker_threads';
import type { Logger } from 'winston';

/**
 * A worker thread of the service that is started again when it dies: its death is logged as
 * `<name>_worker_exited` (error) and a new one starts after restartPauseMs. stop() posts
 * `{ kind: 'stop' }`, waits for the worker to end, and terminates it after stopGraceMs.
 */
export type SupervisedWorker = {
  /** The first worker started, to tell a failed start from a later death. */
  readonly first: Worker;
  post(message: unknown): void;
  stop(): Promise<void>;
};

export const superviseWorker = (options: {
  name: string;
  script: string;
  workerData: unknown;
  restartPauseMs: number;
  stopGraceMs: number;
  logger: Logger;
  onMessage: (message: unknown) => void;
}): SupervisedWorker => {
  const { name, logger } = options;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | null = null;
  const ended = new WeakSet<Worker>();

  const spawn = (): Worker => {
    const started = new Worker(options.script, { workerData: options.workerData });
    started.on('message', options.onMessage);
    started.on('error', (error) =>
      logger.error(`${name}_worker_failed`, { error: String(error), stack: error.stack }),
    );
    started.on('exit', (exitCode) => {
      ended.add(started);
      if (stopping) return;
      logger.error(`${name}_worker_exited`, { exitCode, restartInMs: options.restartPauseMs });
      restartTimer = setTimeout(() => {
        restartTimer = null;
        worker = spawn();
      }, options.restartPauseMs);
    });
    return started;
  };

  const first = spawn();
  let worker = first;
  return {
    first,
    post: (message) => worker.postMessage(message),
    stop: async () => {
      stopping = true;
      if (restartTimer !== null) clearTimeout(restartTimer);
      const running = worker;
      if (ended.has(running)) return; // Died, and its successor was never started.
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.postMessage({ kind: 'stop' });
      const grace = setTimeout(() => void running.terminate(), options.stopGraceMs);
      await exited;
      clearTimeout(grace);
    },
  };
};
