import { createRecentEvents } from '../../../adapters/eventstore/sqlite/recent-events';
import type { RecordedEvent } from '../../../domain/ports/event-store.port';

const at = (position: number): RecordedEvent => ({
  id: `e-${position}`,
  type: 'Probed',
  data: {},
  metadata: {
    correlationId: 'c',
    causationId: null,
    actor: { clientId: 'admin', role: 'admin', ip: '127.0.0.1' },
    idempotencyKey: null,
    occurredAt: new Date(0).toISOString(),
    schemaVersion: 1,
    hash: 'h',
  },
  stream: 's',
  revision: position,
  position: BigInt(position),
});
const range = (from: number, to: number): RecordedEvent[] =>
  Array.from({ length: to - from + 1 }, (_, index) => at(from + index));
const positions = (events: RecordedEvent[] | null): number[] | null =>
  events === null ? null : events.map((event) => Number(event.position));

/** A durable head past every event of these tests. */
const ALL = 1000n;

describe('the recent events a live subscription reads instead of the table', () => {
  it('serves pages that start inside what it holds, and nothing else', () => {
    const recent = createRecentEvents(100);
    expect(recent.after(null, 10, ALL)).toBeNull();
    recent.add(range(5, 9));
    expect(positions(recent.after(4n, 2, ALL))).toEqual([5, 6]);
    expect(positions(recent.after(6n, 10, ALL))).toEqual([7, 8, 9]);
    expect(recent.after(3n, 10, ALL)).toBeNull(); // Position 4 is only in the table.
    expect(recent.after(9n, 10, ALL)).toBeNull(); // Past the end: the table may hold more.
    recent.add(range(10, 11));
    expect(positions(recent.after(9n, 10, ALL))).toEqual([10, 11]);
  });

  it('starts over at a gap left by another writer, and keeps only the newest events', () => {
    const recent = createRecentEvents(4);
    recent.add(range(1, 3));
    recent.add(range(6, 7)); // 4 and 5 were written by someone else.
    expect(recent.after(3n, 10, ALL)).toBeNull();
    expect(positions(recent.after(5n, 10, ALL))).toEqual([6, 7]);
    recent.add(range(8, 20));
    expect(recent.after(15n, 10, ALL)).toBeNull();
    expect(positions(recent.after(16n, 10, ALL))).toEqual([17, 18, 19, 20]);
    recent.add(range(21, 21));
    expect(positions(recent.after(17n, 10, ALL))).toEqual([18, 19, 20, 21]);
  });

  it('serves nothing past the durable head, though it holds it', () => {
    const recent = createRecentEvents(100);
    recent.add(range(1, 5));
    expect(positions(recent.after(null, 10, 3n))).toEqual([1, 2, 3]);
    expect(positions(recent.after(3n, 10, 3n))).toEqual([]);
    expect(positions(recent.after(3n, 10, 5n))).toEqual([4, 5]);
    expect(positions(recent.after(1n, 2, 4n))).toEqual([2, 3]);
  });
});
