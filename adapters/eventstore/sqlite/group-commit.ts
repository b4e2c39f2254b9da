import type { MultiAppendResult } from '../../../domain/ports/event-store.port';
import { UnavailableError } from '../../../domain/ports/event-store.port';
import type { AppendUnit, UnitOutcome } from './append-writer';
import { toStoreError } from './append-writer';

type PendingUnit = AppendUnit & {
  eventCount: number;
  resolve: (result: MultiAppendResult) => void;
  reject: (error: unknown) => void;
};

/** What one group commit wrote: exposed for metrics and for tests of the batching. */
export type CommitStats = { appendCount: number; eventCount: number };

const eventCountOf = (unit: AppendUnit): number =>
  unit.appends.reduce((sum, append) => sum + append.events.length, 0);

/**
 * Group commit: append() only queues; a flush scheduled with setImmediate writes the queued
 * appends, up to batchEventCountMax events (an append is never split), in ONE transaction, and
 * settles each promise once `durable` says that commit is on the disk (an fdatasync of the WAL on
 * the thread pool: adapters/sqlite/wal-sync.ts). What is left waits for the next turn.
 *
 * While a sync runs (`syncing`), whatever queues would only wait for the next sync anyway: it is
 * held and written as one transaction when the sync ends (`resume`), right before the next sync
 * begins, instead of as one small commit per turn of an event loop the sync no longer blocks
 * (each commit rewrites its B-tree pages into the WAL). A full batch is written at once, so a
 * heavy load still writes its next transaction while the sync runs.
 */
export const createGroupCommit = (options: {
  writeBatch: (batch: readonly AppendUnit[]) => UnitOutcome[];
  /** Right after a commit: resolves once it is durable, rejects (fail-stop) if it never will. */
  durable: () => Promise<void>;
  /** Set once durability failed: nothing more is written. */
  failure: () => Error | null;
  /** Whether a sync runs now: a batch short of full is held until `resume()`. */
  syncing: () => boolean;
  batchEventCountMax: number;
  pendingEventCountMax: number;
  onCommit: (stats: CommitStats) => void;
  onFailure: (batch: readonly AppendUnit[]) => void;
}) => {
  const queue: PendingUnit[] = [];
  let pendingEventCount = 0;
  let scheduled = false;

  const takeBatch = (): PendingUnit[] => {
    let count = 0;
    let eventCount = 0;
    for (const unit of queue) {
      if (count > 0 && eventCount + unit.eventCount > options.batchEventCountMax) break;
      count += 1;
      eventCount += unit.eventCount;
    }
    pendingEventCount -= eventCount;
    return queue.splice(0, count);
  };

  const flushBatch = (): void => {
    const batch = takeBatch();
    const failed = options.failure();
    if (failed !== null) {
      batch.forEach((unit) => unit.reject(failed));
      return;
    }
    let outcomes: UnitOutcome[];
    try {
      outcomes = options.writeBatch(batch);
    } catch (error: unknown) {
      options.onFailure(batch);
      const failure = toStoreError(error);
      batch.forEach((append) => append.reject(failure));
      return;
    }
    const eventCount = batch.reduce((sum, unit) => sum + unit.eventCount, 0);
    // Refused units too: an existing idempotency record they report may be an earlier commit's
    // not yet synced, and this commit's sync covers it.
    options.durable().then(
      () => {
        batch.forEach((unit, index) => {
          const outcome = outcomes[index];
          if (outcome?.ok === true) unit.resolve(outcome.result);
          else unit.reject(outcome?.error ?? new Error('group commit: outcome missing'));
        });
        options.onCommit({ appendCount: batch.length, eventCount });
      },
      (error: unknown) => batch.forEach((unit) => unit.reject(error)),
    );
  };

  const flushScheduled = (): void => {
    scheduled = false;
    if (queue.length === 0) return;
    if (options.syncing() && pendingEventCount < options.batchEventCountMax) return; // resume()
    flushBatch();
    schedule();
  };

  function schedule(): void {
    if (scheduled || queue.length === 0) return;
    scheduled = true;
    setImmediate(flushScheduled);
  }

  return {
    /** Queues a unit; its promise settles once its group commit is durable or refused. */
    enqueue: (unit: AppendUnit): Promise<MultiAppendResult> => {
      const failed = options.failure();
      if (failed !== null) return Promise.reject(failed);
      const limit = options.pendingEventCountMax;
      const eventCount = eventCountOf(unit);
      if (pendingEventCount + eventCount > limit) {
        return Promise.reject(new UnavailableError(`sqlite event store: ${limit} events pending`));
      }
      pendingEventCount += eventCount;
      return new Promise<MultiAppendResult>((resolve, reject) => {
        queue.push({ ...unit, eventCount, resolve, reject });
        schedule();
      });
    },
    /** After a sync: writes what was held while it ran (at the next turn). */
    resume: (): void => schedule(),
    /** Writes everything queued now, batch after batch: close() calls it before closing. */
    flush: (): void => {
      while (queue.length > 0) flushBatch();
    },
  };
};
