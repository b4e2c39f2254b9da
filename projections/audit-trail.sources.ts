import { assert } from '../domain/assert';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.port';
import type { ReadModelStore } from '../domain/ports/read-model-store.port';
import {
  AUDIT_CHUNK_EVENT_COUNT,
  AUDIT_CHUNKS,
  AUDIT_HEADS,
  auditChunkOf,
  auditHeadOf,
  chunkIdOf,
  type AuditChunk,
} from './audit-trail.projection';
import { checkpointOf, collectionIn } from './read-models';

/**
 * Where the audit trail's events come from, by ordinal in log order (0 = oldest): a facet (the
 * positions audit-trail.projection.ts keeps, read back from the log) or a stream (read as is).
 * Both stop where the generation does.
 */
export type TrailReader = { eventStore: EventStore; store: ReadModelStore; generation: number };

/** Sources are read in segments of a chunk's size, so a facet's segment is one chunk. */
export const SEGMENT = AUDIT_CHUNK_EVENT_COUNT;

/** Events by ordinal (0 = oldest), in segments of SEGMENT. */
export type Source = {
  count: number;
  /** The segment's chunk when its times are known (a facet), else null (a stream). */
  chunk(segment: number): Promise<AuditChunk | null>;
  /** The events of ordinals [from, to), oldest first. */
  events(from: number, to: number): Promise<readonly RecordedEvent[]>;
};

/** The events at these ascending positions, one log read per run of consecutive positions. */
const readAt = async (
  eventStore: EventStore,
  positions: readonly bigint[],
): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for (let index = 0; index < positions.length;) {
    let end = index + 1;
    while (end < positions.length && positions[end] === (positions[end - 1] ?? 0n) + 1n) end += 1;
    const first = positions[index] ?? 0n;
    const run = await eventStore.readAll({
      afterPosition: first > 0n ? first - 1n : null,
      eventCountMax: end - index,
    });
    run.forEach((event, offset) =>
      assert(
        event.position === positions[index + offset],
        'audit trail: an indexed position holds another event',
      ),
    );
    assert(run.length === end - index, `audit trail: the log ends before ${first}`);
    events.push(...run);
    index = end;
  }
  return events;
};

export const facetSource = async (reader: TrailReader, facet: string): Promise<Source> => {
  const document = await reader.store.get(collectionIn(AUDIT_HEADS, reader.generation), facet);
  const head = auditHeadOf(document);
  const { count } = head;
  let last: { segment: number; chunk: AuditChunk } | null = null;
  const chunk = async (segment: number): Promise<AuditChunk> => {
    if (segment === Math.floor(count / SEGMENT) && head.open) return head.open;
    if (last?.segment === segment) return last.chunk;
    const id = chunkIdOf(facet, segment);
    const stored = await reader.store.get(collectionIn(AUDIT_CHUNKS, reader.generation), id);
    assert(stored !== null, `audit trail: chunk ${id} missing`);
    last = { segment, chunk: auditChunkOf(stored) };
    return last.chunk;
  };
  return {
    count,
    chunk,
    events: async (from, to) => {
      const positions: bigint[] = [];
      for (let segment = Math.floor(from / SEGMENT); segment * SEGMENT < to; segment += 1) {
        const start = segment * SEGMENT;
        const wanted = (await chunk(segment)).positions
          .split(',')
          .slice(Math.max(from - start, 0), to - start);
        positions.push(...wanted.map(BigInt));
      }
      return readAt(reader.eventStore, positions);
    },
  };
};

/** The revision of the stream's last event at or before untilPosition (-1: none), by bisection. */
const lastRevisionUntil = async (
  eventStore: EventStore,
  stream: string,
  untilPosition: bigint,
): Promise<number> => {
  const eventAt = async (revision: number | 'end'): Promise<RecordedEvent | undefined> =>
    (
      await eventStore.readStream(stream, {
        fromRevision: revision,
        direction: 'backwards',
        eventCountMax: 1,
      })
    )[0];
  const last = await eventAt('end');
  if (last === undefined) return -1;
  if (last.position <= untilPosition) return last.revision;
  // Revision `low` is at or before untilPosition (-1: none is), revision `high` after it.
  let low = -1;
  let high = last.revision;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    const event = await eventAt(middle);
    assert(event !== undefined, `audit trail: ${stream} has no revision ${middle}`);
    if (event.position <= untilPosition) low = middle;
    else high = middle;
  }
  return low;
};

/** A stream read; capped at the generation's checkpoint, so a snapshot shows what it held. */
export const streamSource = async (reader: TrailReader, stream: string): Promise<Source> => {
  const checkpoint = await reader.store.readCheckpoint(checkpointOf(reader.generation));
  const count =
    checkpoint === null
      ? 0
      : (await lastRevisionUntil(reader.eventStore, stream, checkpoint.position)) + 1;
  return {
    count,
    chunk: () => Promise.resolve(null),
    events: (from, to) =>
      reader.eventStore.readStream(stream, {
        fromRevision: from,
        direction: 'forwards',
        eventCountMax: to - from,
      }),
  };
};
