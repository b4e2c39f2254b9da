import type { EventSubscription, RecordedEvent } from '../../domain/ports/event-store.port';

/**
 * A catch-up subscription over any paged log reader: reads pages after the last delivered
 * position, and when caught up waits for an append notification (or a poll tick, which covers
 * appends made by other processes sharing the same file).
 */
export const followLog = (options: {
  afterPosition: bigint | null;
  readPage: (afterPosition: bigint | null) => Promise<readonly RecordedEvent[]>;
  onAppend: (listener: () => void) => () => void;
  pollMs?: number;
}): EventSubscription => {
  let closed = false;
  let wake: (() => void) | null = null;
  // Set by a notification that arrives while a page is being read, so that it is not lost.
  let appendSeen = false;
  const unsubscribe = options.onAppend(() => {
    appendSeen = true;
    wake?.();
  });
  const pollMs = options.pollMs ?? 250;

  const waitForAppend = (): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done(): void {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  async function* iterate(): AsyncGenerator<RecordedEvent> {
    let after = options.afterPosition;
    while (!closed) {
      appendSeen = false;
      const page = await options.readPage(after);
      for (const event of page) {
        if (closed) return;
        after = event.position;
        yield event;
      }
      // close() during the read above finds no waiter to wake: check before waiting a whole poll.
      if (page.length === 0 && !closed && !appendSeen) await waitForAppend();
    }
  }

  return {
    [Symbol.asyncIterator]: iterate,
    close: () => {
      closed = true;
      unsubscribe();
      wake?.();
      return Promise.resolve();
    },
  };
};
