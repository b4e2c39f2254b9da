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
 * appends, up to batchEventCountMax events (an append is never split), in ONE fsynced
 * transaction, then settles each promise. What is left waits for the next turn of the event loop.
 */
export const createGroupCommit = (options: {
  writeBatch: (batch: readonly AppendUnit[]) => UnitOutcome[];
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
    let outcomes: UnitOutcome[];
    try {
      outcomes = options.writeBatch(batch);
    } catch (error: unknown) {
      options.onFailure(batch);
      const failure = toStoreError(error);
      batch.forEach((append) => append.reject(failure));
      return;
    }
    batch.forEach((unit, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok === true) unit.resolve(outcome.result);
      else unit.reject(outcome?.error ?? new Error('group commit: outcome missing'));
    });
    const eventCount = batch.reduce((sum, unit) => sum + unit.eventCount, 0);
    options.onCommit({ appendCount: batch.length, eventCount });
  };

  const flushScheduled = (): void => {
    scheduled = false;
    if (queue.length > 0) flushBatch();
    schedule();
  };

  function schedule(): void {
    if (scheduled || queue.length === 0) return;
    scheduled = true;
    setImmediate(flushScheduled);
  }

  return {
    /** Queues a unit; its promise settles once its group commit is fsynced or refused. */
    enqueue: (unit: AppendUnit): Promise<MultiAppendResult> => {
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
    /** Writes everything queued now, batch after batch: close() calls it before closing. */
    flush: (): void => {
      while (queue.length > 0) flushBatch();
    },
  };
};
