import { createHash } from 'node:crypto';
import type { EventMetadata, JsonValue, NewEvent, RecordedEvent } from './ports/event-store.port';

/**
 * The per-stream hash chain auditors recompute: each event's metadata.hash is
 * sha256(previous event's hash + a text of this event without `hash`), where the event includes
 * its stream and revision so that moving an event breaks the chain too. The text has two
 * versions (docs/audit.md, "The hash chain"), told apart by metadata.hashVersion, which the hash
 * itself covers:
 * - version 1 (no hashVersion; every event written before it existed): the canonical JSON of
 *   {stream, revision, id, type, data, metadata without hash};
 * - version 2 (hashVersion: 2; what sealEvents writes): the JSON array
 *   [stream, revision, id, type, canonical metadata without hash, data] where data is its JSON
 *   text exactly as stored (JSON.stringify, made once and shared with the store's insert), so a
 *   large event is serialised once, not twice.
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

/** The hash version sealEvents writes; verification reads each event's own. */
export const HASH_VERSION = 2;

// The JSON text of each sealed event's data, made once when it is hashed: the store writes
// exactly this text (storedDataText), so a large event is serialised once.
const dataTexts = new WeakMap<object, string>();

/** The text of an event's data as stored and hashed: the sealing's own, else JSON.stringify. */
export const storedDataText = (data: NewEvent['data']): string =>
  dataTexts.get(data) ?? JSON.stringify(data);

/**
 * The event's hash after previousHash, by the version its metadata names (see the top of this
 * file). Version 1's body keys are written here in their sorted order (data, id, metadata,
 * revision, stream, type), which is exactly canonicalJson of that object.
 */
export const eventHash = (
  previousHash: string,
  stream: string,
  revision: number,
  event: UnhashedEvent,
): string => {
  const metadata = metadataText(event.metadata);
  const place = `${JSON.stringify(stream)},${JSON.stringify(revision)}`;
  const hash = createHash('sha256').update(previousHash);
  if (event.metadata.hashVersion === HASH_VERSION) {
    // The text in three updates (the same hash as one): the data's text, the largest part, is
    // hashed as it is, not copied into one string with the rest first.
    hash.update(`[${place},${JSON.stringify(event.id)},${JSON.stringify(event.type)},${metadata},`);
    return hash.update(storedDataText(event.data)).update(']').digest('hex');
  }
  const body =
    `{"data":${canonicalJson(event.data)},"id":${JSON.stringify(event.id)}` +
    `,"metadata":${metadata},"revision":${JSON.stringify(revision)}` +
    `,"stream":${JSON.stringify(stream)},"type":${JSON.stringify(event.type)}}`;
  return hash.update(body).digest('hex');
};

/**
 * Seals events onto a stream's chain with the current hash version; returns the sealed events
 * and the new tail. The events' metadata objects are shared by a request's events, so the
 * marked copy is made once per metadata object, not once per event.
 */
export const sealEvents = (
  stream: string,
  tail: ChainTail,
  events: readonly UnhashedEvent[],
): { events: NewEvent[]; tail: ChainTail } => {
  let { nextRevision, lastHash } = tail;
  let source: UnhashedEvent['metadata'] | null = null;
  let marked: UnhashedEvent['metadata'] | null = null;
  const sealed = events.map((event) => {
    if (event.metadata !== source || marked === null) {
      source = event.metadata;
      marked = { ...event.metadata, hashVersion: HASH_VERSION };
    }
    const versioned = { ...event, metadata: marked };
    if (!dataTexts.has(event.data)) dataTexts.set(event.data, JSON.stringify(event.data));
    lastHash = eventHash(lastHash, stream, nextRevision, versioned);
    nextRevision += 1;
    return { ...event, metadata: { ...marked, hash: lastHash } };
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
