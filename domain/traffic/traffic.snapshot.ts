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
import type {
  MutableTrafficUser,
  RefusedUsage,
  TrafficShardState,
  TrafficUserState,
} from './traffic.model';

const encodeUser = ([userId, user]: readonly [string, TrafficUserState]): JsonValue => ({
  userId,
  ...user,
  grantIds: [...user.grantIds],
  resetIds: [...user.resetIds],
});

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

const decode = (saved: JsonValue): TrafficShardState => {
  const state = jsonObject(saved, 'traffic shard snapshot');
  return {
    users: new Map(arrayField(state, 'users').map(decodeUser)),
    recentReports: new Map(arrayField(state, 'recentReports').map(decodeReport)),
  };
};

/**
 * The format does not depend on how the state is held in memory (immutable.js maps until the
 * mutable writer state; plain Maps since): version 3 snapshots on disk are read as they are.
 * Version 3 adds each user's level, group and expiresAt; version 2 snapshots are not used (the
 * shard is folded from its events once, then snapshotted again).
 * Version 2 (version 1 was one stream per user): the shard's users as an array of
 * {userId, ...state} in userId order, and its recent reports oldest first as {reportId, refused}.
 */
export const trafficSnapshotCodec: SnapshotCodec<TrafficShardState> = {
  schemaVersion: 3,
  encode: (state) => ({
    // Sorted, so one state has one snapshot whatever the map's internal order (audit compares).
    users: [...state.users.entries()]
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
      .map(encodeUser),
    recentReports: [...state.recentReports.entries()].map(([reportId, refused]) => ({
      reportId,
      refused: refused.map((usage) => ({ ...usage })),
    })),
  }),
  decode,
};
