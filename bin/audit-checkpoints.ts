import { join } from 'node:path';
import { openSignedCheckpointStore } from '../adapters/audit/sqlite.signed-checkpoint-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { UnavailableError, type EventStore } from '../domain/ports/event-store.port';
import { isCheckpointStream } from '../domain/audit/checkpoint-events';
import { ledgerSummary } from '../projections/ledger-summary';
import { createCheckpointerMemory, writeCheckpoint } from '../projections/log-checkpoints';
import { auditCheckpointRoutes } from '../api/routes/audit-checkpoints.route';
import type { RouteRegistrar } from '../api/route-kit';
import { AUDIT_CHECKPOINTS_FILE_NAME, verifyLog } from './audit-checkpoint-cli';
import { dataDirPublicKeyFiles, loadCheckpointSigner, readPublicKeys } from './audit-keys';
import { CHECKPOINT_LIMITS, type Config } from './config';
import type { Logger } from 'winston';

/** The page cache of the checkpointer's connection to the checkpoints file, in KiB. */
const WRITER_CACHE_SIZE_KIB = 256;

/** Why a checkpoint was taken: logged with it. */
type CheckpointTrigger = 'interval' | 'events' | 'stop';

/** Plans `callback` after `delayMs`; the returned function cancels it (tests fire it by hand). */
type SetTimer = (callback: () => void, delayMs: number) => () => void;

const setUnrefTimer: SetTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * The events this process appends, counted for the checkpointer: `wrap` the event store every
 * writer uses, and the checkpointer `follow`s the counts (one listener). The checkpoints' own
 * copies in the log are not counted (else each checkpoint would count toward the next). A retry
 * answered from what is stored counts again: at worst a checkpoint comes early. Appends by other
 * processes (the CLI, other instances on KurrentDB) are not seen: the timer covers them.
 */
export const createAppendedEventCount = () => {
  let listener: ((eventCount: number) => void) | null = null;
  return {
    /** Called with each committed append (instrumentEventStore's `onAppended`). */
    counted: (appends: readonly { stream: string; events: readonly unknown[] }[]): void => {
      let eventCount = 0;
      for (const { stream, events } of appends)
        if (!isCheckpointStream(stream)) eventCount += events.length;
      if (eventCount > 0) listener?.(eventCount);
    },
    follow: (next: (eventCount: number) => void): void => {
      listener = next;
    },
  };
};
type AppendedEventCount = ReturnType<typeof createAppendedEventCount>;

/**
 * The one owner of the checkpoint deadline. The service signs a checkpoint of the log when the
 * first of two triggers fires: AUDIT_CHECKPOINT_INTERVAL_MS since the last one ended (when the
 * log moved), or AUDIT_CHECKPOINT_EVERY_EVENTS events appended since the last one began (counted
 * as the appends commit: no poll, no extra read or write per append); and a last one as it stops
 * (before the event store closes). At most one is in flight: appends meanwhile count toward the
 * next, which starts when this one ends, and each one covers the whole log up to its head. A
 * failure is logged and the next trigger tries again; a log that ends before the latest
 * checkpoint (cut since) is logged as an error.
 */
export const startAuditCheckpoints = (deps: {
  config: Pick<
    Config,
    'dataDir' | 'auditSigningKeyFile' | 'auditCheckpointIntervalMs' | 'auditCheckpointEveryEvents'
  >;
  eventStore: EventStore;
  appendedEvents: Pick<AppendedEventCount, 'follow'>;
  logger: Logger;
  setTimer?: SetTimer;
}): { stop: () => Promise<void>; routes: RouteRegistrar } => {
  const { config, eventStore, logger } = deps;
  const setTimer = deps.setTimer ?? setUnrefTimer;
  const intervalMs = config.auditCheckpointIntervalMs;
  const everyEventCount = config.auditCheckpointEveryEvents;
  const signer = loadCheckpointSigner(config.dataDir, config.auditSigningKeyFile);
  const checkpointsPath = join(config.dataDir, AUDIT_CHECKPOINTS_FILE_NAME);
  // The checkpointer's own connection: its transaction spans turns of the event loop (see
  // writeCheckpoint), and the routes' reads on the other see only what it committed. A small page
  // cache spills the transaction's pages into the WAL slice by slice rather than all at COMMIT,
  // and the WAL checkpoint thread copies the WAL back (this connection only past a safety net).
  const writerDatabase = openSqliteDatabase(checkpointsPath);
  writerDatabase.pragma(`cache_size = ${WRITER_CACHE_SIZE_KIB * -1}`);
  writerDatabase.pragma(`wal_autocheckpoint = ${CHECKPOINT_LIMITS.writerAutoCheckpointPages}`);
  const writerLog = openSignedCheckpointStore(writerDatabase);
  const database = openSqliteDatabase(checkpointsPath);
  const log = openSignedCheckpointStore(database);
  const memory = createCheckpointerMemory();
  const write = async (trigger: CheckpointTrigger): Promise<void> => {
    try {
      const written = await writeCheckpoint(eventStore, writerLog, signer, {
        now: () => new Date(),
        force: false,
        memory,
      });
      if (written !== null)
        logger.info('audit_checkpoint_signed', {
          trigger,
          sequence: written.body.sequence,
          headPosition: written.body.headPosition,
          eventCount: written.body.eventCount,
          keyId: written.body.keyId,
        });
    } catch (error: unknown) {
      logger.error('audit_checkpoint_failed', { trigger, error: String(error) });
    }
  };
  let stopped = false;
  let inFlight: Promise<void> | null = null;
  let cancelTimer: (() => void) | null = null;
  /** Events appended since the latest checkpoint began (it read the head after that). */
  let appendedEventCount = 0;
  const dueByCount = (): boolean => everyEventCount > 0 && appendedEventCount >= everyEventCount;
  const armTimer = (): void => {
    if (stopped || intervalMs === 0) return;
    cancelTimer = setTimer(() => {
      cancelTimer = null;
      take('interval');
    }, intervalMs);
  };
  const take = (trigger: CheckpointTrigger): void => {
    if (stopped || inFlight !== null) return;
    cancelTimer?.();
    cancelTimer = null;
    appendedEventCount = 0;
    inFlight = write(trigger).then(() => {
      inFlight = null;
      armTimer();
      if (dueByCount()) take('events');
    });
  };
  deps.appendedEvents.follow((eventCount) => {
    appendedEventCount += eventCount;
    if (dueByCount()) take('events');
  });
  armTimer();
  const readable = <T>(read: () => T): T => {
    try {
      return read();
    } catch (error: unknown) {
      throw new UnavailableError(`audit checkpoints unreadable: ${String(error)}`);
    }
  };
  const routes = auditCheckpointRoutes({
    verify: () =>
      verifyLog(
        eventStore,
        readable(() => log.all()),
        readPublicKeys(dataDirPublicKeyFiles(config.dataDir)),
      ),
    latestCheckpoint: () => readable(() => log.latest()),
    streamHeads: (query) => readable(() => log.streamHeads(query)),
    eventStore,
    summary: (options) => ledgerSummary(eventStore, options),
  });
  return {
    routes,
    stop: async () => {
      stopped = true;
      cancelTimer?.();
      // The loop of take() ends: a write in flight arms no timer and starts no other.
      while (inFlight !== null) await inFlight;
      if (intervalMs !== 0 || everyEventCount !== 0) await write('stop');
      writerDatabase.close();
      database.close();
    },
  };
};
