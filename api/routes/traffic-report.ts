import { assert } from '../../domain/assert';
import {
  finishTrafficHash,
  TRAFFIC_HASH_SEED,
  TRAFFIC_SHARD_COUNT,
  TRAFFIC_SHARD_IDS,
  trafficHashStep,
  trafficUserHashOf,
  type UsageRecord,
} from '../../domain/traffic/traffic.decider';

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

/** The grouping of each report the fast parser read, made while its bytes were at hand. */
const groupedReports = new WeakMap<ReportBody, GroupedUsage>();

/** A report's records by shard: the parser's grouping, else grouped now (from JSON.parse). */
export const groupedUsageOf = (body: ReportBody): GroupedUsage => {
  const known = groupedReports.get(body);
  if (known !== undefined) return known;
  const { records } = body;
  for (let index = 0; index < records.length; index += 1)
    userHashes[index] = trafficUserHashOf((records[index] as UsageRecord).userId);
  return groupRecords(records);
};

/** A report body read in full by readReportBytes (so already checked against the schema). */
export const isParsedReport = (value: unknown): value is ReportBody =>
  typeof value === 'object' && value !== null && groupedReports.has(value as ReportBody);

// The parser's cursor into the body: its helpers move it and answer whether they could.
let at = 0;
/** The last id read: its end (exclusive) and its FNV-1a before the finalizer. */
let idEnd = 0;
let idFnv = 0;
/** The last count read. */
let countValue = 0;

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

const skipSpace = (bytes: Buffer): void => {
  for (;;) {
    const code = bytes[at];
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return;
    at += 1;
  }
};

/** `expected` (after any space): moves past it, else false. */
const take = (bytes: Buffer, expected: number): boolean => {
  skipSpace(bytes);
  if (bytes[at] !== expected) return false;
  at += 1;
  return true;
};

const isIdChar = (code: number): boolean =>
  (code >= 0x61 && code <= 0x7a) || // a-z
  (code >= 0x41 && code <= 0x5a) || // A-Z
  (code >= DIGIT_0 && code <= DIGIT_9) ||
  code === 0x5f || // _
  code === 0x2d; // -

/** A quoted id of idSchema (1 to 64 of [A-Za-z0-9_-], so no escape): its FNV as it goes. */
const takeId = (bytes: Buffer): boolean => {
  if (!take(bytes, QUOTE)) return false;
  const start = at;
  let fnv = TRAFFIC_HASH_SEED;
  for (;;) {
    const code = bytes[at];
    if (code === QUOTE) break;
    if (code === undefined || !isIdChar(code)) return false;
    fnv = trafficHashStep(fnv, code);
    at += 1;
  }
  const length = at - start;
  if (length < 1 || length > ID_CHARS_MAX) return false;
  idEnd = at;
  idFnv = fnv;
  at += 1;
  return true;
};

/** The quoted key `"<name>"` and its colon. */
const takeKey = (bytes: Buffer, name: string): boolean => {
  if (!take(bytes, QUOTE)) return false;
  for (let index = 0; index < name.length; index += 1) {
    if (bytes[at + index] !== name.charCodeAt(index)) return false;
  }
  at += name.length;
  if (bytes[at] !== QUOTE) return false;
  at += 1;
  return take(bytes, COLON);
};

/**
 * A count as the schema takes it, written plainly: digits, no leading zero, a safe integer. A
 * fraction or exponent (`1.0`, `1e3`) stops the fast read at the next byte, as does a sign.
 */
const takeCount = (bytes: Buffer): boolean => {
  skipSpace(bytes);
  const start = at;
  let value = 0;
  for (;;) {
    const code = bytes[at];
    if (code === undefined || code < DIGIT_0 || code > DIGIT_9) break;
    value = value * 10 + (code - DIGIT_0);
    at += 1;
  }
  const digits = at - start;
  if (digits === 0 || digits > COUNT_DIGITS_MAX) return false;
  if (digits > 1 && bytes[start] === DIGIT_0) return false;
  if (!Number.isSafeInteger(value)) return false;
  countValue = value;
  return true;
};

const USER_ID = 1;
const UPLOAD = 2;
const DOWNLOAD = 4;

/** One record `{userId, uploadBytes, downloadBytes}` with its keys in any order, each once. */
const takeRecord = (bytes: Buffer, index: number): UsageRecord | null => {
  if (!take(bytes, OPEN_BRACE)) return null;
  let seen = 0;
  let userId = '';
  let uploadBytes = 0;
  let downloadBytes = 0;
  for (let member = 0; member < 3; member += 1) {
    if (member > 0 && !take(bytes, COMMA)) return null;
    skipSpace(bytes);
    const first = bytes[at + 1];
    if (first === 0x75 /* u */ && bytes[at + 2] === 0x73 /* s */) {
      if ((seen & USER_ID) !== 0 || !takeKey(bytes, 'userId')) return null;
      skipSpace(bytes);
      const start = at + 1;
      if (!takeId(bytes)) return null;
      userId = bytes.toString('latin1', start, idEnd);
      userHashes[index] = finishTrafficHash(idFnv);
      seen |= USER_ID;
    } else if (first === 0x75 /* u */) {
      if ((seen & UPLOAD) !== 0 || !takeKey(bytes, 'uploadBytes') || !takeCount(bytes)) return null;
      uploadBytes = countValue;
      seen |= UPLOAD;
    } else {
      if ((seen & DOWNLOAD) !== 0 || !takeKey(bytes, 'downloadBytes') || !takeCount(bytes))
        return null;
      downloadBytes = countValue;
      seen |= DOWNLOAD;
    }
  }
  if (!take(bytes, CLOSE_BRACE)) return null;
  return { userId, uploadBytes, downloadBytes };
};

/** `[record, ...]` of 1 to TRAFFIC_RECORDS_PER_REPORT_MAX records. */
const takeRecords = (bytes: Buffer): UsageRecord[] | null => {
  if (!take(bytes, OPEN_BRACKET)) return null;
  const records: UsageRecord[] = [];
  do {
    if (records.length === TRAFFIC_RECORDS_PER_REPORT_MAX) return null;
    const record = takeRecord(bytes, records.length);
    if (record === null) return null;
    records.push(record);
  } while (take(bytes, COMMA));
  return take(bytes, CLOSE_BRACKET) ? records : null;
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
  at = 0;
  if (!take(bytes, OPEN_BRACE)) return null;
  let reportId: string | null = null;
  let records: UsageRecord[] | null = null;
  for (let member = 0; member < 2; member += 1) {
    if (member > 0 && !take(bytes, COMMA)) return null;
    skipSpace(bytes);
    if (bytes[at + 1] === 0x72 /* r */ && bytes[at + 3] === 0x70 /* p */) {
      if (reportId !== null || !takeKey(bytes, 'reportId')) return null;
      skipSpace(bytes);
      const start = at + 1;
      if (!takeId(bytes)) return null;
      reportId = bytes.toString('latin1', start, idEnd);
    } else {
      if (records !== null || !takeKey(bytes, 'records')) return null;
      records = takeRecords(bytes);
      if (records === null) return null;
    }
  }
  if (!take(bytes, CLOSE_BRACE)) return null;
  skipSpace(bytes);
  if (at !== bytes.length || reportId === null || records === null) return null;
  const body: ReportBody = { reportId, records };
  groupedReports.set(body, groupRecords(records));
  return body;
};
