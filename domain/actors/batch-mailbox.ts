import { assert } from '../assert';
import type { StoredIdempotencyRecord } from '../ports/event-store.port';
import { MAILBOX_RETRY_AFTER_MS, MailboxFullError } from './actor-errors';

/** A queued request and how to answer it. */
export type Queued<Request, Reply> = Request & {
  resolve: (reply: Reply) => void;
  reject: (error: unknown) => void;
};

type Sized = { commands: readonly unknown[] };

/**
 * A single writer's mailbox (the ledger's, the traffic writer's): requests of one or more
 * commands queue; the writer takes what has queued, up to batchCommandCountMax commands (a
 * request is never split), and runs one batch at a time. Past mailboxCommandCountMax queued
 * commands a request is refused with MailboxFullError (503); after close, with an error.
 */
export const createBatchMailbox = <Request extends Sized, Reply>(options: {
  name: string;
  mailboxCommandCountMax: number;
  batchCommandCountMax: number;
  runBatch: (batch: readonly Queued<Request, Reply>[]) => Promise<void>;
  onBatchFailed: (requestCount: number, error: unknown) => void;
}) => {
  const queue: Queued<Request, Reply>[] = [];
  let queuedCommandCount = 0;
  let draining: Promise<void> | null = null;
  let closed = false;

  const takeBatch = (): Queued<Request, Reply>[] => {
    let count = 0;
    let commandCount = 0;
    for (const request of queue) {
      const size = request.commands.length;
      if (count > 0 && commandCount + size > options.batchCommandCountMax) break;
      count += 1;
      commandCount += size;
    }
    queuedCommandCount -= commandCount;
    return queue.splice(0, count);
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = takeBatch();
      try {
        await options.runBatch(batch);
      } catch (error: unknown) {
        options.onBatchFailed(batch.length, error);
        batch.forEach((request) => request.reject(error));
      }
    }
    draining = null;
  };

  return {
    enqueue: (request: Request): Promise<Reply> => {
      if (closed) return Promise.reject(new Error(`${options.name}: execute after close`));
      const size = request.commands.length;
      assert(size > 0, `${options.name}: a request has at least one command`);
      if (queuedCommandCount + size > options.mailboxCommandCountMax)
        return Promise.reject(new MailboxFullError(options.name, MAILBOX_RETRY_AFTER_MS));
      queuedCommandCount += size;
      const reply = new Promise<Reply>((resolve, reject) =>
        queue.push({ ...request, resolve, reject }),
      );
      draining ??= drain();
      return reply;
    },
    queuedCommandCount: (): number => queuedCommandCount,
    /** Waits for the batch in flight; later requests are refused. */
    close: async (): Promise<void> => {
      closed = true;
      await draining;
    },
  };
};

/**
 * After an append refused because some requests' Idempotency-Keys were stored first (by another
 * instance): answers those requests with the stored record and returns the others, to decide
 * again.
 */
export const answerStoredKeys = <
  Pending extends {
    idempotency: { scope: string; key: string } | null;
    resolve: (reply: { kind: 'replay'; record: StoredIdempotencyRecord }) => void;
  },
>(
  batch: readonly Pending[],
  existing: readonly StoredIdempotencyRecord[],
): Pending[] => {
  const taken = new Map(existing.map((record) => [`${record.scope}\n${record.key}`, record]));
  return batch.filter((request) => {
    const key = request.idempotency;
    const record = key === null ? undefined : taken.get(`${key.scope}\n${key.key}`);
    if (record !== undefined) request.resolve({ kind: 'replay', record });
    return record === undefined;
  });
};
