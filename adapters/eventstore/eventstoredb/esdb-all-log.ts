import {
  BACKWARDS,
  END,
  FORWARDS,
  type KurrentDBClient,
  excludeSystemEvents,
} from '@kurrent/kurrentdb-client';
import type { EventSubscription, RecordedEvent } from '../../../domain/ports/event-store.port';
import { readPositionAfter, resolvedPosition, toPortError, toRecorded } from './esdb-mapping';

// $all interleaves the server's own events with ours, so a page may hold fewer of ours than asked.
const PAGE_EVENT_COUNT_MIN = 64;
const PAGE_EVENT_COUNT_MAX = 4096;

/** Drains a read; the caller maps its errors. */
export const collect = async <E>(read: AsyncIterable<E>): Promise<E[]> => {
  const items: E[] = [];
  for await (const item of read) items.push(item);
  return items;
};

/**
 * Up to eventCountMax of our events strictly after afterPosition. KurrentDB reads $all from a
 * position inclusively, so it pages and skips, past what is not ours (see toRecorded) as well.
 */
export const readAllAfter = async (
  client: KurrentDBClient,
  afterPosition: bigint | null,
  eventCountMax: number,
): Promise<RecordedEvent[]> => {
  const found: RecordedEvent[] = [];
  const pageSize = Math.min(
    Math.max(eventCountMax + 1, PAGE_EVENT_COUNT_MIN),
    PAGE_EVENT_COUNT_MAX,
  );
  let cursor = afterPosition;
  while (found.length < eventCountMax) {
    const fromPosition = readPositionAfter(cursor);
    const page = await collect(
      client.readAll({ fromPosition, direction: FORWARDS, maxCount: pageSize }),
    );
    let freshCount = 0;
    for (const resolved of page) {
      const position = resolvedPosition(resolved);
      if (position === null || (cursor !== null && position <= cursor)) continue;
      cursor = position;
      freshCount += 1;
      const event = toRecorded(resolved);
      if (event !== null) found.push(event);
      if (found.length === eventCountMax) break;
    }
    if (freshCount === 0 || page.length < pageSize) break;
  }
  return found;
};

/**
 * The position of our last event in $all strictly before `beforePosition` (null: the whole log),
 * paging backwards past the server's own events and the adapter's idempotency streams.
 */
export const lastPosition = async (
  client: KurrentDBClient,
  beforePosition: bigint | null = null,
): Promise<bigint | null> => {
  let cursor = beforePosition;
  for (;;) {
    const fromPosition = cursor === null ? END : readPositionAfter(cursor);
    const page = await collect(
      client.readAll({ fromPosition, direction: BACKWARDS, maxCount: PAGE_EVENT_COUNT_MAX }),
    );
    let freshCount = 0;
    for (const resolved of page) {
      const position = resolvedPosition(resolved);
      if (position === null || (cursor !== null && position >= cursor)) continue;
      cursor = position;
      freshCount += 1;
      if (toRecorded(resolved) !== null) return position;
    }
    if (freshCount === 0 || page.length < PAGE_EVENT_COUNT_MAX) return null;
  }
};

/**
 * A catch-up subscription to $all without system events, iterating once `ready` (the server's
 * check) has passed. close() must end a pending iteration even though cancelling the gRPC call
 * does not end the client's stream, hence the races.
 */
export const subscribeAfter = (
  client: KurrentDBClient,
  afterPosition: bigint | null,
  options: { ready: () => Promise<void>; onClose: () => void },
): EventSubscription => {
  const subscription = client.subscribeToAll({
    fromPosition: readPositionAfter(afterPosition),
    filter: excludeSystemEvents(),
  });
  // Without a listener an error before the first next() would crash the process; the iterator
  // still receives it.
  subscription.on('error', () => undefined);
  let closed = false;
  let signalClosed = (): void => undefined;
  const closedSignal = new Promise<null>((resolve) => {
    signalClosed = () => resolve(null);
  });

  async function* iterate(): AsyncGenerator<RecordedEvent> {
    const iterator = subscription[Symbol.asyncIterator]();
    let last = afterPosition;
    try {
      if ((await Promise.race([options.ready(), closedSignal])) === null) return;
      while (!closed) {
        const pending = iterator.next();
        const next = await Promise.race([pending, closedSignal]);
        if (next === null) {
          pending.catch(() => undefined); // Settles, or rejects, after the stream is destroyed.
          return;
        }
        if (next.done === true) return;
        const event = toRecorded(next.value);
        // Catch-up subscriptions start after the position already; the check guards a resume.
        if (event === null || (last !== null && event.position <= last)) continue;
        last = event.position;
        yield event;
      }
    } catch (error: unknown) {
      if (!closed) throw toPortError(error);
    }
  }

  return {
    [Symbol.asyncIterator]: iterate,
    close: async () => {
      if (closed) return;
      closed = true;
      signalClosed();
      options.onClose();
      // Closing must not fail because the server is gone: there is nothing left to cancel then.
      await subscription.unsubscribe().catch(() => undefined);
      subscription.destroy();
    },
  };
};
