import { countField, jsonObject, nullableStringField, stringField } from '../domain/json-fields';
import type { JsonObject, JsonValue, RecordedEvent } from '../domain/ports/event-store.port';
import { asJson, includesPosition, positionKeyOf, type Projection } from './projection';

/**
 * The audit trail is the log: its items are events, read from the event store when queried
 * (audit-trail.query.ts). What the log cannot tell cheaply is which events belong to a client, a
 * category or a correlation id, and where the n-th newest of them is. So per *facet* (`log` for
 * every event, `client:<id>`, `category:<name>`, `correlation:<id>`) this keeps the positions of
 * its events in order, in chunks of AUDIT_CHUNK_EVENT_COUNT. The open chunk sits in the facet's
 * head, which a batch rewrites once however many of its events it adds (as an account); a full
 * chunk is written once. Neither collection has an index beyond its id: per event, nothing
 * indexed is written, and per request, one head (its correlation's) is.
 */
export const AUDIT_HEADS = 'audit_heads';
export const AUDIT_CHUNKS = 'audit_chunks';
export const AUDIT_CHUNK_EVENT_COUNT = 256;

/** Positions of consecutive events of a facet, with what their times span. */
export type AuditChunk = {
  /** Decimal, comma-separated: appending one is cheap, and the text is compact. */
  positions: string;
  occurredAtMin: string;
  occurredAtMax: string;
  /** The newest occurredAt of the facet up to this chunk's end: never decreases along a facet. */
  occurredAtCumulativeMax: string;
};

/** A facet's head: how many events it has, their newest time, and its last chunk if not full. */
type AuditHead = {
  count: number;
  occurredAtCumulativeMax: string | null;
  open: AuditChunk | null;
};

export const LOG_FACET = 'log';
export const clientFacet = (clientId: string): string => `client:${clientId}`;
export const categoryFacet = (category: string): string => `category:${category}`;
export const correlationFacet = (correlationId: string): string => `correlation:${correlationId}`;

/** The id of a facet's index-th full chunk (its events index·N … index·N + N − 1). */
export const chunkIdOf = (facet: string, index: number): string => `${facet}#${index}`;

export const categoryOf = (stream: string): string => stream.split('-', 1)[0] ?? stream;

const facetsOf = (event: RecordedEvent): readonly string[] => [
  LOG_FACET,
  clientFacet(event.metadata.actor.clientId),
  categoryFacet(categoryOf(event.stream)),
  correlationFacet(event.metadata.correlationId),
];

const later = (left: string, right: string): string => (left >= right ? left : right);
const earlier = (left: string, right: string): string => (left <= right ? left : right);

const extended = (head: AuditHead, position: string, occurredAt: string): AuditChunk => {
  const { open, occurredAtCumulativeMax } = head;
  const cumulativeMax =
    occurredAtCumulativeMax === null ? occurredAt : later(occurredAtCumulativeMax, occurredAt);
  return {
    positions: open === null ? position : `${open.positions},${position}`,
    occurredAtMin: open === null ? occurredAt : earlier(open.occurredAtMin, occurredAt),
    occurredAtMax: open === null ? occurredAt : later(open.occurredAtMax, occurredAt),
    occurredAtCumulativeMax: cumulativeMax,
  };
};

const EMPTY_HEAD: AuditHead = { count: 0, occurredAtCumulativeMax: null, open: null };

const chunkOf = (value: JsonValue | undefined, what: string): AuditChunk => {
  const chunk = jsonObject(value, what);
  return {
    positions: stringField(chunk, 'positions'),
    occurredAtMin: stringField(chunk, 'occurredAtMin'),
    occurredAtMax: stringField(chunk, 'occurredAtMax'),
    occurredAtCumulativeMax: stringField(chunk, 'occurredAtCumulativeMax'),
  };
};

/** A facet's head read back from its document (none yet: the empty head); checked field by field. */
export const auditHeadOf = (document: JsonObject | null): AuditHead => {
  if (document === null) return EMPTY_HEAD;
  const head = jsonObject(document['head'], 'audit head');
  return {
    count: countField(head, 'count'),
    occurredAtCumulativeMax: nullableStringField(head, 'occurredAtCumulativeMax'),
    open: head['open'] === null ? null : chunkOf(head['open'], 'open'),
  };
};

/** A full chunk read back from its document. */
export const auditChunkOf = (document: JsonObject): AuditChunk =>
  chunkOf(document['chunk'], 'audit chunk');

export const auditTrailProjection: Projection = {
  name: 'audit_trail',
  // Heads are rewritten once per unit: a unit of traffic events may wait for its commit.
  commitDeferrable: true,
  collections: [
    { name: AUDIT_HEADS, indexes: [] },
    { name: AUDIT_CHUNKS, indexes: [] },
  ],
  apply: async (event, context) => {
    const positionKey = positionKeyOf(event.position);
    const position = event.position.toString();
    for (const facet of facetsOf(event)) {
      const document = await context.get(AUDIT_HEADS, facet);
      if (includesPosition(document, positionKey)) continue;
      const head = auditHeadOf(document);
      const chunk = extended(head, position, event.metadata.occurredAt);
      const count = head.count + 1;
      const full = count % AUDIT_CHUNK_EVENT_COUNT === 0;
      if (full) {
        const id = chunkIdOf(facet, count / AUDIT_CHUNK_EVENT_COUNT - 1);
        context.put(AUDIT_CHUNKS, id, asJson({ chunk, positionKey }));
      }
      const next: AuditHead = {
        count,
        occurredAtCumulativeMax: chunk.occurredAtCumulativeMax,
        open: full ? null : chunk,
      };
      context.put(AUDIT_HEADS, facet, asJson({ head: next, positionKey }));
    }
  },
};
