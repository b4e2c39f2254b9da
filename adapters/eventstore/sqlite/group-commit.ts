import type {
  AppendResult,
  ExpectedRevision,
  NewEvent,
} from '../../../domain/ports/event-store.port';
import { UnavailableError } from '../../../domain/ports/event-store.port';
import type { AppendOutcome, AppendRequest } from './append-writer';
import { toStoreError } from './append-writer';

type PendingAppend = AppendRequest & {
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
};

/** What one group commit wrote: exposed for metrics and for tests of the batching. */
export type CommitStats = { appendCount: number; eventCount: number };

const eventCountOf = (appends: readonly AppendRequest[]): number =>
  appends.reduce((sum, append) => sum + append.events.length, 0);

/**
 * Group commit: append() only queues; a flush scheduled with setImmediate writes the queued
 * appends, up to batchEventCountMax events (an append is never split), in ONE fsynced
 * transaction, then settles each promise. What is left waits for the next turn of the event loop.
 */
export const createGroupCommit = (options: {
  writeBatch: (batch: readonly AppendRequest[]) => AppendOutcome[];
  batchEventCountMax: number;
  pendingEventCountMax: number;
  onCommit: (stats: CommitStats) => void;
  onFailure: (batch: readonly AppendRequest[]) => void;
}) => {
  const queue: PendingAppend[] = [];
  let pendingEventCount = 0;
  let scheduled = false;

  const takeBatch = (): PendingAppend[] => {
    let count = 0;
    let eventCount = 0;
    for (const append of queue) {
      if (count > 0 && eventCount + append.events.length > options.batchEventCountMax) break;
      count += 1;
      eventCount += append.events.length;
    }
    pendingEventCount -= eventCount;
    return queue.splice(0, count);
  };

  const flushBatch = (): void => {
    const batch = takeBatch();
    let outcomes: AppendOutcome[];
    try {
      outcomes = options.writeBatch(batch);
    } catch (error: unknown) {
      options.onFailure(batch);
      const failure = toStoreError(error);
      batch.forEach((append) => append.reject(failure));
      return;
    }
    batch.forEach((append, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok === true) append.resolve(outcome.result);
      else append.reject(outcome?.error ?? new Error('group commit: outcome missing'));
    });
    options.onCommit({ appendCount: batch.length, eventCount: eventCountOf(batch) });
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
    /** Queues an append; its promise settles once its group commit is fsynced or refused. */
    enqueue: (stream: string, events: readonly NewEvent[], expected: ExpectedRevision) => {
      const limit = options.pendingEventCountMax;
      if (pendingEventCount + events.length > limit) {
        return Promise.reject(new UnavailableError(`sqlite event store: ${limit} events pending`));
      }
      pendingEventCount += events.length;
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ stream, events, expected, resolve, reject });
        schedule();
      });
    },
    /** Writes everything queued now, batch after batch: close() calls it before closing. */
    flush: (): void => {
      while (queue.length > 0) flushBatch();
    },
  };
};
