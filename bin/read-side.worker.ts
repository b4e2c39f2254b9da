import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { assert } from '../domain/assert';
import {
  hostReadSide,
  type FromReadSideHost,
  type ToReadSideHost,
} from '../projections/read-side-link';
import { CHECKPOINT_LIMITS, READ_SIDE_LIMITS } from './config';
import type { Config } from './config';
import { durableHeadOf, followAppendSignal } from './append-signal';
import { EVENTS_FILE_NAME, openEventStore } from './event-store';
import { createLogger } from './logger';
import { openReadModelStore } from './read-side';
import { withReadSideLog } from './read-side-log';

/**
 * The read side's thread: follows the log through its own event-store connection, writes the read
 * models and tells the API thread what it committed. Posting 'stop' ends it cleanly.
 */
export type ReadSideWorkerData = Pick<
  Config,
  'dataDir' | 'mongodbUrl' | 'eventStoreUrl' | 'logLevel'
> & {
  /** Bumped by the API thread after each commit (bin/append-signal.ts); null: poll only. */
  appendSignal: Int32Array | null;
};

/**
 * How often the worker's SQLite subscription looks for appends when nothing signalled them (a
 * lost wake-up, another process): the API thread's commits wake it through the append signal.
 * Appends that arrive while a batch is applied are read together as the next batch, so batches
 * still grow under load.
 */
const READ_SIDE_POLL_MS = 250;

type StopMessage = { kind: 'stop' };

const run = async (): Promise<void> => {
  const port = parentPort;
  assert(port !== null, 'read-side.worker must run as a worker thread');
  const settings = workerData as ReadSideWorkerData;
  const logger = createLogger(settings.logLevel).child({ thread: 'read_side' });
  const signal = settings.appendSignal;
  // Nothing past the API thread's durable head is read (bin/append-signal.ts).
  const durableHead = signal === null ? null : durableHeadOf(signal);
  // The embedded log is read through the read side's own reader (bin/read-side-log.ts), which
  // follows the append signal; KurrentDB pushes appends through its subscription.
  const eventStore =
    settings.eventStoreUrl === null
      ? withReadSideLog(openEventStore(settings, durableHead === null ? {} : { durableHead }), {
          path: join(settings.dataDir, EVENTS_FILE_NAME),
          pollMs: READ_SIDE_POLL_MS,
          externalAppends:
            signal === null ? null : (listener) => followAppendSignal(signal, listener),
          durableHead,
        })
      : openEventStore(settings);
  const store = await openReadModelStore(settings, {
    walAutoCheckpointPages: CHECKPOINT_LIMITS.writerAutoCheckpointPages,
  });
  const host = await hostReadSide(
    {
      eventStore,
      store,
      limits: READ_SIDE_LIMITS,
      nowMs: Date.now,
      // A failure (a read-model store that went away, a bug) ends this thread: the supervisor
      // starts a fresh one a second later, which resumes from the checkpoints, so an outage
      // heals by itself instead of leaving the read side stopped until a restart.
      onError: (error) => {
        logger.error('read_side_failed', {
          error: String(error),
          stack: error instanceof Error ? error.stack : undefined,
        });
        process.exit(1);
      },
    },
    {
      post: (message: FromReadSideHost) => port.postMessage(message),
      onMessage: (listener) =>
        port.on('message', (message: ToReadSideHost | StopMessage) => {
          if (message.kind !== 'stop') listener(message);
        }),
    },
  );
  port.on('message', (message: ToReadSideHost | StopMessage) => {
    if (message.kind !== 'stop') return;
    void (async () => {
      await host.stop();
      await store.close();
      await eventStore.close();
      port.close();
    })();
  });
};

void run();
