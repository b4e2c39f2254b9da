import { streamName } from '../aggregate';
import type { EventStore, RecordedEvent } from '../ports/event-store.port';

/**
 * Finds an event by id on an account stream, scanning backwards from the end and stopping at the
 * first event older than `notBeforePosition` (a leg is always written after its transfer's
 * intent). Only the recovery path of a transfer uses it, so the hot path never reads.
 */
export const findAccountEvent = async (
  store: EventStore,
  accountId: string,
  eventId: string,
  notBeforePosition: bigint,
  pageEventCountMax: number,
): Promise<RecordedEvent | null> => {
  const stream = streamName('account', accountId);
  let fromRevision: number | 'end' = 'end';
  for (;;) {
    const page = await store.readStream(stream, {
      fromRevision,
      direction: 'backwards',
      eventCountMax: pageEventCountMax,
    });
    for (const event of page) {
      if (event.id === eventId) return event;
      if (event.position < notBeforePosition) return null;
    }
    const oldest = page[page.length - 1];
    if (oldest === undefined || oldest.revision === 0) return null;
    fromRevision = oldest.revision - 1;
  }
};
