import { assert } from '../../domain/assert';
import {
  finishTrafficHash,
  TRAFFIC_HASH_SEED,
  TRAFFIC_SHARD_COUNT,
  TRAFFIC_SHARD_IDS,
  trafficHashStep,
  trafficUserHashOf,
  type UsageRecord,
} from '../../domain/traffic/traffic.model';

/** A node reports at most this many usage records per request. */
export const TRAFFIC_RECORDS_PER_REPORT_MAX = 10_000;

/** The id pattern of common.schema's idSchema, `^[A-Za-z0-9_-]{1,64}$`, as the parser reads it. */
const ID_CHARS_MAX = 64;

export type ReportBody = { reportId: string; records: UsageRecord[] };

/** A report's records grouped for the writer: one command per shard it touches. */
export type GroupedUsage = {
  /** In the order of each shard's first record; users in the order of their first record. */
  shards: { shardId: string; usages: UsageRecord[] }[];
  /** Users whose own records add up past the safe-integer range, in first-record order. */
  overflowed: string[];
};

// Scratch space of the grouping, reused by every report: the grouping runs to its end without
// yielding, so two reports never share it. A user's place in the table is found from its hash
// (the bits above the shard's), by linear probing; the table is at most a third full.
const TABLE_SIZE = 32_768;
const TABLE_MASK = TABLE_SIZE - 1;
/** Per table slot: 1 + the index of the first record of its user; 0: free. */
const firstRecordAt = new Int32Array(TABLE_SIZE);
/** The table slots taken, in first-record order (cleared after each grouping). */
const takenSlots = new Int32Array(TRAFFIC_RECORDS_PER_REPORT_MAX);
/** Per first record: its index in its shard's list. */
const listIndexOf = new Int32Array(TRAFFIC_RECORDS_PER_REPORT_MAX);
/** Per record: its user's hash (trafficUserHashOf), filled by the parser or from the ids. */
const userHashes = new Uint32Array(TRAFFIC_RECORDS_PER_REPORT_MAX);

/**
 * One pass: groups the records by shard, summing the records of a user listed twice (a node may),
 * and then drops users without usage: one report is one command per shard it touches. A user
 * whose records add up past the safe-integer range is refused here, as the shard would refuse the
 * total. The body's record objects go to the shards as they are (summed users excepted). Users
 * are told apart by a hash table over userHashes (no Map, no string hashed again).
 */
const groupRecords = (records: readonly UsageRecord[]): GroupedUsage => {
  assert(records.length <= TRAFFIC_RECORDS_PER_REPORT_MAX, 'traffic report: too many records');
  const lists: (UsageRecord[] | undefined)[] = [];
  const order: number[] = [];
  let userCount = 0;
  const overflowedUsers = new Set<string>();
  let mayHoldZero = false;
  try {
    for (let index = 0; index < records.length; index += 1) {
      const record = records[index] as UsageRecord;
      const hash = userHashes[index] as number;
      let slot = (hash >>> 4) & TABLE_MASK;
      let first = (firstRecordAt[slot] as number) - 1;
      while (first >= 0 && (records[first] as UsageRecord).userId !== record.userId) {
        slot = (slot + 1) & TABLE_MASK;
        first = (firstRecordAt[slot] as number) - 1;
      }
      if (first < 0) {
        firstRecordAt[slot] = index + 1;
        takenSlots[userCount] = slot;
        userCount += 1;
        const shard = hash % TRAFFIC_SHARD_COUNT;
        let list = lists[shard];
        if (list === undefined) {
          list = [];
          lists[shard] = list;
          order.push(shard);
        }
        listIndexOf[index] = list.length;
        list.push(record);
        if (record.uploadBytes + record.downloadBytes === 0) mayHoldZero = true;
        continue;
      }
      const { userId } = record;
      if (overflowedUsers.size > 0 && overflowedUsers.has(userId)) continue;
      const list = lists[hash % TRAFFIC_SHARD_COUNT];
      const at = listIndexOf[first] as number;
      const current = list?.[at];
      assert(list !== undefined && current !== undefined, 'traffic report: a user placed nowhere');
      const uploadBytes = current.uploadBytes + record.uploadBytes;
      const downloadBytes = current.downloadBytes + record.downloadBytes;
      if (Number.isSafeInteger(uploadBytes) && Number.isSafeInteger(downloadBytes))
        list[at] = { userId, uploadBytes, downloadBytes };
      else overflowedUsers.add(userId);
    }
    const overflowed: string[] = [];
    if (overflowedUsers.size > 0) {
      for (let user = 0; user < userCount; user += 1) {
        const first = (firstRecordAt[takenSlots[user] as number] as number) - 1;
        const { userId } = records[first] as UsageRecord;
        if (overflowedUsers.has(userId)) overflowed.push(userId);
      }
    }
    const keep = (usage: UsageRecord): boolean =>
      usage.uploadBytes + usage.downloadBytes > 0 && !overflowedUsers.has(usage.userId);
    const pruning = mayHoldZero || overflowedUsers.size > 0;
    const shards: GroupedUsage['shards'] = [];
    for (const shard of order) {
      const list = lists[shard] ?? [];
      const usages = pruning ? list.filter(keep) : list;
      const shardId = TRAFFIC_SHARD_IDS[shard];
      assert(shardId !== undefined, 'traffic report: shard out of range');
      if (usages.length > 0) shards.push({ shardId, usages });
    }
    return { shards, overflowed };
  } finally {
    for (let user = 0; user < userCount; user += 1) firstRecordAt[takenSlots[user] as number] = 0;
  }
};

/**
 * A report body readReportBytes read, with its grouping made while its bytes were at hand. A class
 * rather than a WeakMap beside the body: a WeakMap's entries cost every young-generation garbage
 * collection more than the grouping itself.
 */
class ParsedReport implements ReportBody {
  constructor(
    readonly reportId: string,
    readonly records: UsageRecord[],
    readonly grouped: GroupedUsage,
  ) {}
}

/** A report's records by shard: the parser's grouping, else grouped now (from JSON.parse). */
export const groupedUsageOf = (body: ReportBody): GroupedUsage => {
  if (body instanceof ParsedReport) return body.grouped;
  const { records } = body;
  for (let index = 0; index < records.length; index += 1)
    userHashes[index] = trafficUserHashOf((records[index] as UsageRecord).userId);
  return groupRecords(records);
};

/** A report body read in full by readReportBytes (so already checked against the schema). */
export const isParsedReport = (value: unknown): value is ReportBody =>
  value instanceof ParsedReport;

// The parser: each helper takes the index where its part starts and returns the index after it,
// or -1 when the bytes are not that part in the plain form (the body then goes to JSON.parse).
// Plain functions of (bytes, index), so the compiler inlines them into one loop.

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** 2^53 - 1 has 16 digits: a count of more is not a safe integer. */
const COUNT_DIGITS_MAX = 16;

/** Past JSON's spaces (space, tab, CR, LF). */
const spaceEnd = (bytes: Buffer, from: number): number => {
  let index = from;
  for (;;) {
    const code = bytes[index];
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return index;
    index += 1;
  }
};

/** Past spaces and then `expected`, else -1. */
const byteEnd = (bytes: Buffer, from: number, expected: number): number => {
  const index = spaceEnd(bytes, from);
  return bytes[index] === expected ? index + 1 : -1;
};

/** Past spaces, the quoted key `"<name>"`, spaces and its colon, else -1. */
const keyEnd = (bytes: Buffer, from: number, name: string): number => {
  const index = spaceEnd(bytes, from);
  if (bytes[index] !== QUOTE) return -1;
  for (let at = 0; at < name.length; at += 1) {
    if (bytes[index + 1 + at] !== name.charCodeAt(at)) return -1;
  }
  const after = index + 1 + name.length;
  return bytes[after] === QUOTE ? byteEnd(bytes, after + 1, COLON) : -1;
};

const isIdChar = (code: number): boolean =>
  (code >= 0x61 && code <= 0x7a) || // a-z
  (code >= 0x41 && code <= 0x5a) || // A-Z
  (code >= DIGIT_0 && code <= DIGIT_9) ||
  code === 0x5f || // _
  code === 0x2d; // -

/**
 * Past an id of idSchema from its opening quote at `from` (1 to 64 of [A-Za-z0-9_-], so no
 * escape) to its closing quote, else -1. The id is bytes from + 1 to the result - 1.
 */
const idEnd = (bytes: Buffer, from: number): number => {
  if (bytes[from] !== QUOTE) return -1;
  let index = from + 1;
  for (;;) {
    const code = bytes[index];
    if (code === QUOTE) break;
    if (code === undefined || !isIdChar(code)) return -1;
    index += 1;
  }
  const length = index - from - 1;
  return length >= 1 && length <= ID_CHARS_MAX ? index + 1 : -1;
};

/** The hash of the ASCII id in bytes start to end (trafficUserHashOf of its string). */
const idHashOf = (bytes: Buffer, start: number, end: number): number => {
  let fnv = TRAFFIC_HASH_SEED;
  for (let index = start; index < end; index += 1) fnv = trafficHashStep(fnv, bytes[index] ?? 0);
  return finishTrafficHash(fnv);
};

/**
 * Past a count as the schema takes it, written plainly: digits, no leading zero, at most 16 of
 * them; else -1. A fraction or exponent (`1.0`, `1e3`) or a sign leaves the body to JSON.parse.
 */
const countEnd = (bytes: Buffer, from: number): number => {
  let index = from;
  for (;;) {
    const code = bytes[index];
    if (code === undefined || code < DIGIT_0 || code > DIGIT_9) break;
    index += 1;
  }
  const digits = index - from;
  if (digits === 0 || digits > COUNT_DIGITS_MAX) return -1;
  return digits > 1 && bytes[from] === DIGIT_0 ? -1 : index;
};

/**
 * The value of the digits from start to end; -1 past the safe range. Counts of up to 9 digits
 * are summed as 32-bit integers, so the record's fields stay small integers, not boxed doubles.
 */
const countOf = (bytes: Buffer, start: number, end: number): number => {
  if (end - start <= 9) {
    let small = 0;
    for (let index = start; index < end; index += 1)
      small = (small * 10 + ((bytes[index] ?? 0) - DIGIT_0)) | 0;
    return small;
  }
  let value = 0;
  for (let index = start; index < end; index += 1)
    value = value * 10 + ((bytes[index] ?? 0) - DIGIT_0);
  return Number.isSafeInteger(value) ? value : -1;
};

/**
 * A report body read straight from its bytes into what the route needs, checked as it is read,
 * with no JSON tree in between: the records, and their grouping by shard (groupedUsageOf). It
 * reads only bodies the schema accepts in the plain form clients write (any key order, any
 * spacing, counts as plain digits, ids of idSchema); anything else (a missing or extra field, a
 * duplicate key, an escape, `1.0`, a negative count, too many records, malformed JSON) is null, and
 * JSON.parse and the schema then read the body and answer as they always have (400 naming the
 * record and field). It accepts nothing JSON.parse and the schema would not, and reads the same
 * values.
 */
export const readReportBytes = (bytes: Buffer): ReportBody | null => {
  let index = byteEnd(bytes, 0, OPEN_BRACE);
  let reportId: string | null = null;
  let records: UsageRecord[] | null = null;
  for (let member = 0; member < 2 && index >= 0; member += 1) {
    if (member > 0) index = byteEnd(bytes, index, COMMA);
    if (index < 0) return null;
    index = spaceEnd(bytes, index);
    if (bytes[index + 1] === 0x72 /* r */ && bytes[index + 3] === 0x70 /* p */) {
      if (reportId !== null) return null;
      const start = spaceEnd(bytes, keyEnd(bytes, index, 'reportId'));
      index = idEnd(bytes, start);
      if (index < 0) return null;
      reportId = bytes.toString('latin1', start + 1, index - 1);
    } else {
      if (records !== null) return null;
      records = [];
      index = recordsEnd(
        bytes,
        byteEnd(bytes, keyEnd(bytes, index, 'records'), OPEN_BRACKET),
        records,
      );
    }
  }
  if (index < 0 || reportId === null || records === null) return null;
  index = byteEnd(bytes, index, CLOSE_BRACE);
  if (index < 0 || spaceEnd(bytes, index) !== bytes.length) return null;
  return new ParsedReport(reportId, records, groupRecords(records));
};

const USER_ID = 1;
const UPLOAD = 2;
const DOWNLOAD = 4;

/**
 * Past `record, ...]` (the list's opening bracket read) of 1 to TRAFFIC_RECORDS_PER_REPORT_MAX
 * records `{userId, uploadBytes, downloadBytes}`, keys in any order, each once; else -1. Each
 * record goes into `records`, its user's hash into userHashes.
 */
const recordsEnd = (bytes: Buffer, from: number, records: UsageRecord[]): number => {
  let index = from;
  while (index >= 0) {
    if (records.length === TRAFFIC_RECORDS_PER_REPORT_MAX) return -1;
    index = byteEnd(bytes, index, OPEN_BRACE);
    let seen = 0;
    let userId = '';
    let uploadBytes = 0;
    let downloadBytes = 0;
    for (let member = 0; member < 3 && index >= 0; member += 1) {
      if (member > 0) index = byteEnd(bytes, index, COMMA);
      if (index < 0) return -1;
      index = spaceEnd(bytes, index);
      const first = bytes[index + 1];
      if (first === 0x75 /* u */ && bytes[index + 2] === 0x73 /* s */) {
        if ((seen & USER_ID) !== 0) return -1;
        seen |= USER_ID;
        const start = spaceEnd(bytes, keyEnd(bytes, index, 'userId'));
        index = idEnd(bytes, start);
        if (index < 0) return -1;
        userId = bytes.toString('latin1', start + 1, index - 1);
        userHashes[records.length] = idHashOf(bytes, start + 1, index - 1);
      } else {
        const upload = first === 0x75; /* u */
        if ((seen & (upload ? UPLOAD : DOWNLOAD)) !== 0) return -1;
        seen |= upload ? UPLOAD : DOWNLOAD;
        const start = spaceEnd(
          bytes,
          keyEnd(bytes, index, upload ? 'uploadBytes' : 'downloadBytes'),
        );
        index = countEnd(bytes, start);
        if (index < 0) return -1;
        const value = countOf(bytes, start, index);
        if (value < 0) return -1;
        if (upload) uploadBytes = value;
        else downloadBytes = value;
      }
    }
    index = byteEnd(bytes, index, CLOSE_BRACE);
    if (index < 0) return -1;
    records.push({ userId, uploadBytes, downloadBytes });
    index = spaceEnd(bytes, index);
    if (bytes[index] === CLOSE_BRACKET) return index + 1;
    index = byteEnd(bytes, index, COMMA);
  }
  return -1;
};
