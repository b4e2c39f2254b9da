import type { JsonObject, RecordedEvent } from '../domain/ports/event-store.port';
import {
  categoryFacet,
  categoryOf,
  clientFacet,
  correlationFacet,
  LOG_FACET,
  type AuditChunk,
} from './audit-trail.projection';
import {
  facetSource,
  SEGMENT,
  streamSource,
  type Source,
  type TrailReader,
} from './audit-trail.sources';
import { asJson } from './projection';

/**
 * The audit trail's queries, answered from the log. Each filter names a *source* of events in log
 * order: a facet's positions (audit-trail.projection.ts) or a stream. The smallest source drives:
 * with one filter and no time range, a page is a seek (its events are read, nothing else); with
 * more, the driving source is read newest first and the other filters are applied to its events,
 * which costs a read of every event of that source. A time range skips the chunks it excludes by
 * their times, and counts those it includes whole without reading them.
 */
export type TrailFilter = {
  clientId: string | null;
  stream: string | null;
  category: string | null;
  correlationId: string | null;
  /** Half-open range on occurredAt, ISO-8601 text as events carry it. */
  from: string | null;
  to: string | null;
};
type TrailPage = { items: JsonObject[]; totalCount: number };

const matcherOf =
  (filter: TrailFilter) =>
  (event: RecordedEvent): boolean => {
    const { actor, correlationId, occurredAt } = event.metadata;
    return (
      (filter.clientId === null || actor.clientId === filter.clientId) &&
      (filter.stream === null || event.stream === filter.stream) &&
      (filter.category === null || categoryOf(event.stream) === filter.category) &&
      (filter.correlationId === null || correlationId === filter.correlationId) &&
      (filter.from === null || occurredAt >= filter.from) &&
      (filter.to === null || occurredAt < filter.to)
    );
  };

const overlaps = (chunk: AuditChunk, filter: TrailFilter): boolean =>
  (filter.from === null || chunk.occurredAtMax >= filter.from) &&
  (filter.to === null || chunk.occurredAtMin < filter.to);

const within = (chunk: AuditChunk, filter: TrailFilter): boolean =>
  (filter.from === null || chunk.occurredAtMin >= filter.from) &&
  (filter.to === null || chunk.occurredAtMax < filter.to);

type Window = { offset: number; limit: number };

/**
 * Reads the driving source newest first and keeps the matches inside the window. `alone`: no
 * filter but the source's own and the time range, so a chunk inside the range counts whole.
 */
const scan = async (source: Source, filter: TrailFilter, alone: boolean, window: Window) => {
  const matches = matcherOf(filter);
  const newest: RecordedEvent[] = [];
  let matched = 0;
  const reaches = (count: number): boolean =>
    matched < window.offset + window.limit && matched + count > window.offset;
  for (let segment = Math.ceil(source.count / SEGMENT) - 1; segment >= 0; segment -= 1) {
    const chunk = await source.chunk(segment);
    // This chunk and every older one hold only events before `from`.
    if (chunk !== null && filter.from !== null && chunk.occurredAtCumulativeMax < filter.from)
      break;
    if (chunk !== null && !overlaps(chunk, filter)) continue;
    const from = segment * SEGMENT;
    const size = Math.min(source.count, from + SEGMENT) - from;
    if (alone && chunk !== null && within(chunk, filter) && !reaches(size)) {
      matched += size;
      continue;
    }
    const events = await source.events(from, from + size);
    for (let index = events.length - 1; index >= 0; index -= 1) {
      const event = events[index];
      if (event === undefined || !matches(event)) continue;
      if (reaches(1)) newest.push(event);
      matched += 1;
    }
  }
  return { events: newest, totalCount: matched };
};

export const trailItemOf = (event: RecordedEvent): JsonObject => {
  const { actor, occurredAt, correlationId, causationId } = event.metadata;
  return asJson({
    eventId: event.id,
    stream: event.stream,
    category: categoryOf(event.stream),
    revision: event.revision,
    type: event.type,
    position: event.position.toString(),
    clientId: actor.clientId,
    role: actor.role,
    ip: actor.ip,
    occurredAt,
    correlationId,
    causationId,
  });
};

/** One page of the trail, newest first, and how many events match in all. */
export const queryTrail = async (
  reader: TrailReader,
  filter: TrailFilter,
  window: Window,
): Promise<TrailPage> => {
  const sources: Source[] = [];
  if (filter.correlationId !== null)
    sources.push(await facetSource(reader, correlationFacet(filter.correlationId)));
  if (filter.stream !== null) sources.push(await streamSource(reader, filter.stream));
  if (filter.clientId !== null)
    sources.push(await facetSource(reader, clientFacet(filter.clientId)));
  if (filter.category !== null)
    sources.push(await facetSource(reader, categoryFacet(filter.category)));
  if (sources.length === 0) sources.push(await facetSource(reader, LOG_FACET));
  const driver = sources.reduce((smallest, source) =>
    source.count < smallest.count ? source : smallest,
  );
  const alone = sources.length === 1;
  if (alone && filter.from === null && filter.to === null) {
    const to = Math.max(driver.count - window.offset, 0);
    const from = Math.max(to - window.limit, 0);
    const events = from < to ? await driver.events(from, to) : [];
    return { items: events.map(trailItemOf).reverse(), totalCount: driver.count };
  }
  const found = await scan(driver, filter, alone, window);
  return { items: found.events.map(trailItemOf), totalCount: found.totalCount };
};
