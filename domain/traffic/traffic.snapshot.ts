import type { SnapshotCodec } from '../aggregate';
import { assert } from '../assert';
import {
  arrayField,
  booleanField,
  countField,
  jsonObject,
  nullableStringField,
  stringArrayField,
  stringField,
} from '../json-fields';
import type { JsonValue } from '../ports/event-store.port';
import {
  initialTrafficUserState,
  type MutableTrafficUser,
  type RefusedUsage,
  type TrafficShardState,
} from './traffic.model';

const decodeUser = (value: JsonValue): [string, MutableTrafficUser] => {
  const user = jsonObject(value, 'users[]');
  return [
    stringField(user, 'userId'),
    {
      quotaBytes: countField(user, 'quotaBytes'),
      uploadBytes: countField(user, 'uploadBytes'),
      downloadBytes: countField(user, 'downloadBytes'),
      exceeded: booleanField(user, 'exceeded'),
      grantIds: stringArrayField(user, 'grantIds'),
      resetIds: stringArrayField(user, 'resetIds'),
      level: countField(user, 'level'),
      group: stringField(user, 'group'),
      expiresAt: nullableStringField(user, 'expiresAt'),
    },
  ];
};

const decodeRefused = (value: JsonValue): RefusedUsage => {
  const refused = jsonObject(value, 'refused[]');
  assert(refused['reason'] === 'usage_overflow', 'refused[].reason: not usage_overflow');
  return { userId: stringField(refused, 'userId'), reason: 'usage_overflow' };
};

const decodeReport = (value: JsonValue): [string, readonly RefusedUsage[]] => {
  const report = jsonObject(value, 'recentReports[]');
  return [stringField(report, 'reportId'), arrayField(report, 'refused').map(decodeRefused)];
};

/** Version 3: one object per user and per report (see trafficSnapshotCodec). */
const decodeVersion3 = (saved: JsonValue): TrafficShardState => {
  const state = jsonObject(saved, 'traffic shard snapshot');
  return {
    users: new Map(arrayField(state, 'users').map(decodeUser)),
    recentReports: new Map(arrayField(state, 'recentReports').map(decodeReport)),
  };
};

const NO_IDS: JsonValue[] = [];

/**
 * Version 4: columns. Every user's userId, quota and totals as parallel arrays (in userId order),
 * `exceeded` as the indexes of the users over quota, and what few users differ from a new user
 * in the rest (grants, resets, a plan) as rows `[index, grantIds, resetIds, level, group,
 * expiresAt]`; the recent reports as their ids oldest first, and their refusals as rows
 * `[reportIndex, userId]`. Numbers and strings in arrays: no object per user to build or to
 * serialise (a shard of 6,250 users encodes in a fraction of version 3's time).
 */
const encodeVersion4 = (state: TrafficShardState): JsonValue => {
  // Sorted, so one state has one snapshot whatever the map's internal order (audit compares).
  const userIds = [...state.users.keys()].sort();
  const quotaBytes: number[] = new Array<number>(userIds.length);
  const uploadBytes: number[] = new Array<number>(userIds.length);
  const downloadBytes: number[] = new Array<number>(userIds.length);
  const exceeded: number[] = [];
  const others: JsonValue[] = [];
  const initial = initialTrafficUserState;
  for (let index = 0; index < userIds.length; index += 1) {
    const user = state.users.get(userIds[index] as string) as MutableTrafficUser;
    quotaBytes[index] = user.quotaBytes;
    uploadBytes[index] = user.uploadBytes;
    downloadBytes[index] = user.downloadBytes;
    if (user.exceeded) exceeded.push(index);
    const { grantIds, resetIds, level, group, expiresAt } = user;
    if (
      grantIds.length === 0 &&
      resetIds.length === 0 &&
      level === initial.level &&
      group === initial.group &&
      expiresAt === initial.expiresAt
    )
      continue;
    const grants = grantIds.length === 0 ? NO_IDS : [...grantIds];
    const resets = resetIds.length === 0 ? NO_IDS : [...resetIds];
    others.push([index, grants, resets, level, group, expiresAt]);
  }
  const reportIds: string[] = [];
  const refused: JsonValue[] = [];
  for (const [reportId, refusals] of state.recentReports) {
    for (const { userId } of refusals) refused.push([reportIds.length, userId]);
    reportIds.push(reportId);
  }
  return { userIds, quotaBytes, uploadBytes, downloadBytes, exceeded, others, reportIds, refused };
};

const countsOf = (values: JsonValue[], name: string, length: number): number[] => {
  assert(values.length === length, `${name}: ${values.length} values for ${length} users`);
  return values.map((value) => {
    assert(
      typeof value === 'number' && Number.isSafeInteger(value) && value >= 0,
      `${name}: not a safe integer ≥ 0`,
    );
    return value;
  });
};

const indexIn = (value: JsonValue | undefined, length: number, what: string): number => {
  assert(
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value < length,
    `${what}: not an index below ${length}`,
  );
  return value;
};

const stringsOf = (value: JsonValue | undefined, what: string): string[] => {
  assert(Array.isArray(value), `${what}: not an array`);
  return value.map((item) => {
    assert(typeof item === 'string', `${what}: not an array of strings`);
    return item;
  });
};

const decodeVersion4 = (saved: JsonValue): TrafficShardState => {
  const state = jsonObject(saved, 'traffic shard snapshot');
  const userIds = stringArrayField(state, 'userIds');
  const count = userIds.length;
  const quotas = countsOf(arrayField(state, 'quotaBytes'), 'quotaBytes', count);
  const uploads = countsOf(arrayField(state, 'uploadBytes'), 'uploadBytes', count);
  const downloads = countsOf(arrayField(state, 'downloadBytes'), 'downloadBytes', count);
  const users: MutableTrafficUser[] = userIds.map((_userId, index) => ({
    ...initialTrafficUserState,
    quotaBytes: quotas[index] as number,
    uploadBytes: uploads[index] as number,
    downloadBytes: downloads[index] as number,
  }));
  for (const index of arrayField(state, 'exceeded'))
    (users[indexIn(index, count, 'exceeded[]')] as MutableTrafficUser).exceeded = true;
  for (const row of arrayField(state, 'others')) {
    assert(Array.isArray(row) && row.length === 6, 'others[]: not a row of 6');
    const [index, grantIds, resetIds, level, group, expiresAt] = row;
    const user = users[indexIn(index, count, 'others[][0]')] as MutableTrafficUser;
    user.grantIds = stringsOf(grantIds, 'others[][1]');
    user.resetIds = stringsOf(resetIds, 'others[][2]');
    assert(typeof level === 'number' && Number.isSafeInteger(level) && level >= 0, 'level');
    assert(typeof group === 'string', 'others[][4]: not a string');
    assert(expiresAt === null || typeof expiresAt === 'string', 'others[][5]: not a time');
    user.level = level;
    user.group = group;
    user.expiresAt = expiresAt;
  }
  const reportIds = stringArrayField(state, 'reportIds');
  const refusals: RefusedUsage[][] = reportIds.map(() => []);
  for (const row of arrayField(state, 'refused')) {
    assert(Array.isArray(row) && row.length === 2, 'refused[]: not a row of 2');
    const [index, userId] = row;
    assert(typeof userId === 'string', 'refused[][1]: not a string');
    const list = refusals[indexIn(index, reportIds.length, 'refused[][0]')] as RefusedUsage[];
    list.push({ userId, reason: 'usage_overflow' });
  }
  return {
    users: new Map(userIds.map((userId, index) => [userId, users[index] as MutableTrafficUser])),
    recentReports: new Map(reportIds.map((reportId, index) => [reportId, refusals[index] ?? []])),
  };
};

/**
 * The format does not depend on how the state is held in memory (immutable.js maps until the
 * mutable writer state; plain Maps since).
 * Version 4 (encodeVersion4): columns, written since the traffic write side was made cheaper
 * per record (a whole shard is encoded at each snapshot, on the writer's thread).
 * Version 3, still read (decodeVersion3): the shard's users as an array of {userId, ...state}
 * in userId order, and its recent reports oldest first as {reportId, refused}; version 3 added
 * each user's level, group and expiresAt to version 2.
 * Version 2 snapshots are not used (the shard is folded from its events once, then snapshotted
 * again); version 1 was one stream per user.
 */
export const trafficSnapshotCodec: SnapshotCodec<TrafficShardState> = {
  schemaVersion: 4,
  olderVersionsRead: [3],
  encode: encodeVersion4,
  decode: (saved, schemaVersion) =>
    schemaVersion === 3 ? decodeVersion3(saved) : decodeVersion4(saved),
};
