import { parseStored } from '../domain/aggregate';
import type { JsonObject, RecordedEvent } from '../domain/ports/event-store.port';
import { trafficEventCodec } from '../domain/traffic/traffic.events';
import {
  finishTrafficHash,
  TRAFFIC_HASH_SEED,
  trafficHashStep,
  trafficUserHashOf,
  type TrafficEvent,
  type UsageRecord,
} from '../domain/traffic/traffic.model';

/**
 * A report's usages as columns: the fold reads them by index, with no object per record for the
 * garbage collector.
 */
export type UsageColumns = {
  userIds: string[];
  /** Per record: trafficUserHashOf of its user id (the fold finds its users by it). */
  userHashes: Uint32Array;
  uploadBytes: Float64Array;
  downloadBytes: Float64Array;
};

/** A traffic event as the fold reads it: a report's usages as columns, its other fields typed. */
export type ReadTrafficEvent = {
  domainEvent: TrafficEvent;
  /** A report's records (its domain event's own list is left empty); null for other events. */
  usages: UsageColumns | null;
};

const trafficEvents = { eventCodec: trafficEventCodec };

/** The version-2 UsageReported's data as its encoder writes it (traffic.events.ts), up to usages. */
const REPORT_ID = '{"reportId":"';
const NODE_ID = '","nodeId":"';
const USAGES = '","usages":[';
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** 2^53 - 1 has 16 digits: a count of more is not a safe integer. */
const SAFE_INTEGER_DIGITS_MAX = 16;

/**
 * The string from `from` to its closing quote, when it holds no escape and no control character
 * (else -1: the codec reads the event). Returns the index of the closing quote.
 */
const plainStringEnd = (text: string, from: number): number => {
  for (let index = from; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) return index;
    if (code === BACKSLASH || code < 0x20) return -1;
  }
  return -1;
};

/**
 * plainStringEnd for a user id, its hash (trafficUserHashOf) put into `into` at `slot` as the
 * characters are read.
 */
const plainIdEnd = (text: string, from: number, into: Uint32Array, slot: number): number => {
  let hash = TRAFFIC_HASH_SEED;
  for (let index = from; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      into[slot] = finishTrafficHash(hash);
      return index;
    }
    if (code === BACKSLASH || code < 0x20) return -1;
    hash = trafficHashStep(hash, code);
  }
  return -1;
};

/**
 * Reads a JSON count at `from` as the codec accepts it (a safe integer ≥ 0) written as
 * JSON.stringify writes one: digits, no leading zero. Returns the index after it, -1 otherwise.
 */
const countEnd = (text: string, from: number, into: Float64Array, slot: number): number => {
  let value = 0;
  let index = from;
  for (; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < DIGIT_0 || code > DIGIT_9) break;
    value = value * 10 + (code - DIGIT_0);
  }
  const digits = index - from;
  if (digits === 0 || digits > SAFE_INTEGER_DIGITS_MAX) return -1;
  if (digits > 1 && text.charCodeAt(from) === DIGIT_0) return -1;
  if (!Number.isSafeInteger(value)) return -1;
  into[slot] = value;
  return index;
};

/** `expected` at `at`: the index after it, else -1. */
const literalEnd = (text: string, at: number, expected: string): number =>
  text.startsWith(expected, at) ? at + expected.length : -1;

/**
 * A version-2 report's data text in the exact form its encoder writes, read without building the
 * JSON tree: reportId and nodeId as plain strings, then each usage triple
 * `["<userId>",<upload>,<download>]` checked as the codec checks it (a string, two safe integers
 * ≥ 0), then what follows the usages (refused, recordedAt) as JSON. Null when the text departs
 * from that form in any way (an escape, a number in another notation, spaces...): the caller
 * then reads the event through the codec, which refuses what is malformed.
 */
const decodeReport = (
  text: string,
): {
  head: { reportId: string; nodeId: string };
  usages: UsageColumns;
  rest: JsonObject;
} | null => {
  let index = literalEnd(text, 0, REPORT_ID);
  if (index < 0) return null;
  const reportIdEnd = plainStringEnd(text, index);
  if (reportIdEnd < 0) return null;
  const reportId = text.slice(index, reportIdEnd);
  index = literalEnd(text, reportIdEnd, NODE_ID);
  if (index < 0) return null;
  const nodeIdEnd = plainStringEnd(text, index);
  if (nodeIdEnd < 0) return null;
  const nodeId = text.slice(index, nodeIdEnd);
  index = literalEnd(text, nodeIdEnd, USAGES);
  if (index < 0) return null;
  // About 32 characters per triple: room for every record, trimmed at the end.
  const capacity = Math.ceil((text.length - index) / 8);
  const userIds: string[] = [];
  const userHashes = new Uint32Array(capacity);
  const uploadBytes = new Float64Array(capacity);
  const downloadBytes = new Float64Array(capacity);
  let record = 0;
  while (text.charCodeAt(index) !== 0x5d /* ] */) {
    if (record > 0 && (index = literalEnd(text, index, ',')) < 0) return null;
    if ((index = literalEnd(text, index, '["')) < 0) return null;
    const userIdEnd = plainIdEnd(text, index, userHashes, record);
    if (userIdEnd < 0) return null;
    userIds.push(text.slice(index, userIdEnd));
    if ((index = literalEnd(text, userIdEnd, '",')) < 0) return null;
    if ((index = countEnd(text, index, uploadBytes, record)) < 0) return null;
    if ((index = literalEnd(text, index, ',')) < 0) return null;
    if ((index = countEnd(text, index, downloadBytes, record)) < 0) return null;
    if ((index = literalEnd(text, index, ']')) < 0) return null;
    record += 1;
  }
  // What follows the usages, after a stand-in for them: JSON.parse keeps a key's last value, so a
  // text naming reportId, nodeId or usages again is left to the codec (the stand-in would change).
  let rest: unknown;
  try {
    rest = JSON.parse(`{"usages":0${text.slice(index + 1)}`);
  } catch {
    return null;
  }
  if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) return null;
  if (!('usages' in rest) || rest.usages !== 0 || 'reportId' in rest || 'nodeId' in rest)
    return null;
  return {
    head: { reportId, nodeId },
    usages: {
      userIds,
      userHashes: userHashes.subarray(0, record),
      uploadBytes: uploadBytes.subarray(0, record),
      downloadBytes: downloadBytes.subarray(0, record),
    },
    rest: rest as JsonObject,
  };
};

/** The columns of usages the codec read. */
const columnsOf = (usages: readonly UsageRecord[]): UsageColumns => ({
  userIds: usages.map(({ userId }) => userId),
  userHashes: Uint32Array.from(usages, ({ userId }) => trafficUserHashOf(userId)),
  uploadBytes: Float64Array.from(usages, ({ uploadBytes }) => uploadBytes),
  downloadBytes: Float64Array.from(usages, ({ downloadBytes }) => downloadBytes),
});

/** The stored data's text, when the log reader kept it beside the event (bin/read-side-log.ts). */
const dataTextOf = (event: RecordedEvent): string | null =>
  'dataText' in event && typeof event.dataText === 'string' ? event.dataText : null;

/**
 * A traffic shard's stored event as the fold reads it, through the traffic codec. A version-2
 * report whose data text the reader kept is decoded from the text (decodeReport): its usages
 * checked field by field as the codec checks them, its other fields read by the codec itself
 * (with an empty usage list). Anything else, and any text not in the encoder's exact form, is
 * read by the codec alone.
 */
export const readTrafficEvent = (event: RecordedEvent): ReadTrafficEvent => {
  const text =
    event.type === 'UsageReported' && event.metadata.schemaVersion === 2 ? dataTextOf(event) : null;
  const decoded = text === null ? null : decodeReport(text);
  if (decoded !== null) {
    // Field by field, not a spread: the event's data is parsed only when read (bin/read-side-log.ts).
    const { type, metadata, stream, revision } = event;
    const data = { ...decoded.rest, ...decoded.head, usages: [] };
    const domainEvent = parseStored(trafficEvents, { type, data, metadata, stream, revision });
    return { domainEvent, usages: decoded.usages };
  }
  const domainEvent = parseStored(trafficEvents, event);
  return {
    domainEvent,
    usages: domainEvent.type === 'UsageReported' ? columnsOf(domainEvent.data.usages) : null,
  };
};
