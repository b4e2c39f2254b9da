import { accountAggregate, type AccountState } from '../domain/account/account.decider';
import { parseStored } from '../domain/aggregate';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.port';

/**
 * An account as it was at a point of the log, folded from its stream alone: up to a global
 * position (every event at or before it), or up to an instant (every event that occurred at or
 * before it). What an auditor compares with what the read model showed then.
 */
export type PointInTime = { position: bigint } | { asOfMs: number };

const PAGE_EVENT_COUNT_MAX = 1000;

/** Whether the event is part of the log as it stood at the point. */
export const covers = (point: PointInTime, event: RecordedEvent): boolean =>
  'position' in point
    ? event.position <= point.position
    : Date.parse(event.metadata.occurredAt) <= point.asOfMs;

/** The account's state at the point and the position of the last event folded (null: none). */
export const accountAt = async (
  store: EventStore,
  accountId: string,
  point: PointInTime,
): Promise<{ state: AccountState; position: bigint | null }> => {
  const stream = `account-${accountId}`;
  let state = accountAggregate.initialState;
  let position: bigint | null = null;
  for (let fromRevision = 0; ;) {
    const page = await store.readStream(stream, {
      fromRevision,
      direction: 'forwards',
      eventCountMax: PAGE_EVENT_COUNT_MAX,
    });
    for (const event of page) {
      if (!covers(point, event)) return { state, position };
      state = accountAggregate.evolve(state, parseStored(accountAggregate, event));
      position = event.position;
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < PAGE_EVENT_COUNT_MAX) return { state, position };
    fromRevision = last.revision + 1;
  }
};
