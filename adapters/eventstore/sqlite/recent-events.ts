import type { RecordedEvent } from '../../../domain/ports/event-store.port';

/**
 * The events this store itself committed last, in position order without gaps, kept as the very
 * objects it appended. A live subscription reads its next page here instead of reading and
 * parsing the rows back from SQLite; anything not held (older, or written by another process in
 * between) is read from the table as before. Consumers must treat the events as immutable.
 */
type RecentEvents = {
  /** After a commit: the events it wrote, in position order. */
  add(events: readonly RecordedEvent[]): void;
  /**
   * Up to eventCountMax events right after `afterPosition`, none past `untilPosition` (the
   * durable head); null if they are not all held here.
   */
  after(
    afterPosition: bigint | null,
    eventCountMax: number,
    untilPosition: bigint,
  ): RecordedEvent[] | null;
};

export const createRecentEvents = (eventCountMax: number): RecentEvents => {
  let held: RecordedEvent[] = [];
  let start = 0;

  const firstPosition = (): bigint | null => held[start]?.position ?? null;
  const lastPosition = (): bigint | null => held[held.length - 1]?.position ?? null;

  return {
    add: (events) => {
      const first = events[0];
      if (first === undefined) return;
      const last = lastPosition();
      // A gap (another process wrote in between): what is held no longer joins up; start over.
      if (last === null || first.position !== last + 1n) {
        held = [];
        start = 0;
      }
      held.push(...events);
      start = Math.max(start, held.length - eventCountMax);
      if (start >= eventCountMax) {
        held = held.slice(start);
        start = 0;
      }
    },
    after: (afterPosition, countMax, untilPosition) => {
      const first = firstPosition();
      const last = lastPosition();
      if (first === null || last === null) return null;
      const next = afterPosition === null ? 1n : afterPosition + 1n;
      // Only a page that starts inside what is held; past the end the table may hold more.
      if (next < first || next > last) return null;
      // Held, not yet durable: nothing to read yet (the table would answer the same).
      if (next > untilPosition) return [];
      const index = start + Number(next - first);
      const durableLast = last > untilPosition ? untilPosition : last;
      return held.slice(index, index + Math.min(countMax, Number(durableLast - next) + 1));
    },
  };
};
