import { createHash } from 'node:crypto';
import type { EventMetadata, JsonValue, NewEvent, RecordedEvent } from './ports/event-store.port';

/**
 * The per-stream hash chain auditors recompute: each event's metadata.hash is
 * sha256(previous event's hash + canonical JSON of this event without `hash`), where the event
 * includes its stream and revision so that moving an event breaks the chain too.
 */
export const GENESIS_HASH = '0'.repeat(64);

export type UnhashedEvent = Omit<NewEvent, 'metadata'> & { metadata: Omit<EventMetadata, 'hash'> };

/** The tail a stream's next event links to. */
export type ChainTail = { nextRevision: number; lastHash: string };

export const EMPTY_CHAIN: ChainTail = { nextRevision: 0, lastHash: GENESIS_HASH };

/** JSON with object keys sorted at every depth and no whitespace: one text per value. */
export const canonicalJson = (value: JsonValue): string => appendCanonical('', value);

// One string built by appending, without the intermediate arrays of map/join: the chain hashes
// three events per transfer, and this text is most of what each hash costs.
const appendCanonical = (text: string, value: JsonValue): string => {
  if (value === null || typeof value !== 'object') return text + JSON.stringify(value);
  let out = text;
  if (Array.isArray(value)) {
    out += '[';
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) out += ',';
      out = appendCanonical(out, value[index] ?? null);
    }
    return out + ']';
  }
  const keys = Object.keys(value).sort();
  out += '{';
  for (let index = 0; index < keys.length; index += 1) {
    const key = keys[index] as string;
    if (index > 0) out += ',';
    out = appendCanonical(out + JSON.stringify(key) + ':', value[key] ?? null);
  }
  return out + '}';
};

// The canonical text of a metadata object without its hash, remembered per object: the events
// a request produces share one metadata object, so its text is made once, not once per event.
const metadataTexts = new WeakMap<object, string>();

const metadataText = (metadata: EventMetadata | UnhashedEvent['metadata']): string => {
  const known = metadataTexts.get(metadata);
  if (known !== undefined) return known;
  const { hash: _ignored, ...rest } = metadata as EventMetadata;
  const text = canonicalJson(rest as unknown as JsonValue);
  metadataTexts.set(metadata, text);
  return text;
};

/**
 * sha256(previousHash + canonicalJson({stream, revision, id, type, data, metadata without hash})).
 * The body's keys are written here in their sorted order (data, id, metadata, revision, stream,
 * type), which is exactly canonicalJson of that object.
 */
export const eventHash = (
  previousHash: string,
  stream: string,
  revision: number,
  event: UnhashedEvent,
): string => {
  const body =
    `{"data":${canonicalJson(event.data)},"id":${JSON.stringify(event.id)}` +
    `,"metadata":${metadataText(event.metadata)},"revision":${JSON.stringify(revision)}` +
    `,"stream":${JSON.stringify(stream)},"type":${JSON.stringify(event.type)}}`;
  return createHash('sha256').update(previousHash).update(body).digest('hex');
};

/** Seals events onto a stream's chain; returns the sealed events and the new tail. */
export const sealEvents = (
  stream: string,
  tail: ChainTail,
  events: readonly UnhashedEvent[],
): { events: NewEvent[]; tail: ChainTail } => {
  let { nextRevision, lastHash } = tail;
  const sealed = events.map((event) => {
    lastHash = eventHash(lastHash, stream, nextRevision, event);
    nextRevision += 1;
    return { ...event, metadata: { ...event.metadata, hash: lastHash } };
  });
  return { events: sealed, tail: { nextRevision, lastHash } };
};

export type ChainBreak = {
  stream: string;
  revision: number;
  hashExpected: string;
  hashFound: string;
};

/**
 * Checks consecutive events of one stream, starting from `tail` (EMPTY_CHAIN for revision 0).
 * Returns the first broken link, or the tail to continue from with the next page.
 */
export const verifyChain = (
  tail: ChainTail,
  events: readonly RecordedEvent[],
): { ok: true; tail: ChainTail } | { ok: false; broken: ChainBreak } => {
  let current = tail;
  for (const event of events) {
    const expected =
      event.revision === current.nextRevision
        ? eventHash(current.lastHash, event.stream, event.revision, event)
        : `revision ${current.nextRevision}`;
    if (expected !== event.metadata.hash) {
      const broken = {
        stream: event.stream,
        revision: event.revision,
        hashExpected: expected,
        hashFound: event.metadata.hash,
      };
      return { ok: false, broken };
    }
    current = { nextRevision: event.revision + 1, lastHash: event.metadata.hash };
  }
  return { ok: true, tail: current };
};
