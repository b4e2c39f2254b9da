import type { Decision } from '../decision';

/**
 * Traffic lives in TRAFFIC_SHARD_COUNT streams `trafficshard-<nn>`; a user belongs to the shard
 * trafficShardOf(userId). A node's report becomes one UsageReported per shard it touches, so a
 * report of 1,000 records is about 16 appends instead of 1,000. The count is part of the stored
 * layout: changing it would move users between shards, so it is a constant, not a setting.
 */
export const TRAFFIC_SHARD_COUNT = 16;

/** FNV-1a's offset basis: the hash of the empty id, before any character. */
export const TRAFFIC_HASH_SEED = 0x811c9dc5;

/** FNV-1a's step: the hash after one more character (UTF-16 code unit) of the id. */
export const trafficHashStep = (hash: number, code: number): number =>
  Math.imul(hash ^ code, 0x01000193);

/**
 * A user's hash from its FNV-1a over the id, through murmur3's finalizer: without it the low bits,
 * and so the shard, would depend only on the low bits of each character ('user-a' and 'user-q'
 * alike). An unsigned 32-bit integer; its residue mod TRAFFIC_SHARD_COUNT is the shard. A parser
 * that reads an ASCII id byte by byte computes the same hash as it reads.
 */
export const finishTrafficHash = (fnv: number): number => {
  let hash = Math.imul(fnv ^ (fnv >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
};

/** A user's hash (see finishTrafficHash). */
export const trafficUserHashOf = (userId: string): number => {
  let hash = TRAFFIC_HASH_SEED;
  for (let index = 0; index < userId.length; index += 1) {
    hash = trafficHashStep(hash, userId.charCodeAt(index));
  }
  return finishTrafficHash(hash);
};

/** The shard of a user as a number, 0..TRAFFIC_SHARD_COUNT - 1. */
const trafficShardIndexOf = (userId: string): number =>
  trafficUserHashOf(userId) % TRAFFIC_SHARD_COUNT;

/** Shard ids are two digits, 00..15, indexed by trafficShardIndexOf. */
export const TRAFFIC_SHARD_IDS: readonly string[] = Array.from(
  { length: TRAFFIC_SHARD_COUNT },
  (_, index) => String(index).padStart(2, '0'),
);

export const trafficShardOf = (userId: string): string =>
  String(trafficShardIndexOf(userId)).padStart(2, '0');

/** One user's quota and usage for the current period. */
export type TrafficUserState = Readonly<{
  quotaBytes: number;
  uploadBytes: number;
  downloadBytes: number;
  /** True from the report that crossed the quota until a grant or reset brings usage within it. */
  exceeded: boolean;
  /** Every grant and reset ever applied: they are rare (plans, periods), so kept in full. */
  grantIds: readonly string[];
  resetIds: readonly string[];
  /** The level (class) the last plan bought gave; it counts only until expiresAt. */
  level: number;
  /** The node group the last plan bought gave: nodes of other groups do not serve the user. */
  group: string;
  /** When the plans bought run out (ISO-8601); null: never bought one. */
  expiresAt: string | null;
}>;

/** What a legacy per-user stream knew of a user (it had no levels). */
export type TrafficCounts = Pick<
  TrafficUserState,
  'quotaBytes' | 'uploadBytes' | 'downloadBytes' | 'exceeded' | 'grantIds' | 'resetIds'
>;

/** Users that never bought a plan, and plans that name no group, are in this group. */
export const DEFAULT_USER_GROUP = 'default';

/** A user the shard has never seen: no plan, no quota, so any usage exceeds it (intended). */
export const initialTrafficUserState: TrafficUserState = {
  quotaBytes: 0,
  uploadBytes: 0,
  downloadBytes: 0,
  exceeded: false,
  grantIds: [],
  resetIds: [],
  level: 0,
  group: DEFAULT_USER_GROUP,
  expiresAt: null,
};

/**
 * What a plan purchase sets with its quota grant, in the same decision: the plan's level and
 * group, and an expiry durationSeconds later than the current one if it is still running, else than
 * the grant. amountMinor and currency are what was paid (the purchase history shows them).
 */
export type SubscriptionTerms = {
  purchaseId: string;
  planId: string;
  level: number;
  group: string;
  durationSeconds: number;
  amountMinor: number;
  currency: string;
};

/** A subscription as granted: the terms with the expiry they resulted in. */
export type Subscription = Omit<SubscriptionTerms, 'durationSeconds'> & { expiresAt: string };

/** The user's level at nowMs: the level bought while the plan runs, 0 once it has expired. */
export const effectiveLevelOf = (user: TrafficUserState, nowMs: number): number =>
  isSubscribed(user, nowMs) ? user.level : 0;

/** True while a bought plan runs at nowMs. */
export const isSubscribed = (user: TrafficUserState, nowMs: number): boolean =>
  user.expiresAt !== null && Date.parse(user.expiresAt) > nowMs;

/** Users refused in a report, with the reason (a usage that would overflow the safe range). */
export type RefusedUsage = { userId: string; reason: 'usage_overflow' };

/** A user as the shard's owner holds it: updated in place when a committed event applies. */
export type MutableTrafficUser = {
  -readonly [Key in keyof TrafficUserState]: TrafficUserState[Key];
};

/**
 * A shard's state: plain maps owned by whoever folded it (the traffic writer, a load, an audit).
 * Only the owner writes it, and only with what is committed (applyTrafficEvent, or a committed
 * batch's overlay, which does the same); everyone else reads it through TrafficShardView.
 */
export type TrafficShardState = {
  readonly users: Map<string, MutableTrafficUser>;
  /**
   * The last recentReportCountMax reports applied to this shard, oldest first (insertion order),
   * with the users each one refused, so a node's retry gets the same answer and counts nothing
   * twice.
   */
  readonly recentReports: Map<string, readonly RefusedUsage[]>;
};

/** A shard as deciders, routes and queries read it. */
export type TrafficShardView = {
  readonly users: ReadonlyMap<string, TrafficUserState>;
  readonly recentReports: ReadonlyMap<string, readonly RefusedUsage[]>;
};

/**
 * Nodes retry a lost answer within seconds; 4,096 reports per shard is 20 s at the benchmark's
 * 200 reports/s and hours at a normal fleet's rate. The durable guard against late retries is
 * the API's Idempotency-Key (kept ≥ 24 h).
 */
export const recentReportCountMax = 4_096;

export type UsageRecord = { userId: string; uploadBytes: number; downloadBytes: number };

export type TrafficCommand =
  | {
      type: 'GrantQuota';
      data: {
        userId: string;
        grantId: string;
        quotaBytes: number;
        reason: string;
        now: string;
        /** Present for a plan purchase: its level, group and duration. */
        subscription?: SubscriptionTerms;
      };
    }
  | {
      type: 'ResetQuota';
      data: { userId: string; resetId: string; quotaBytes: number; now: string };
    }
  | {
      /** A user's final state in its legacy stream `traffic-<userId>` (see traffic.legacy.ts). */
      type: 'ImportUser';
      data: {
        userId: string;
        user: TrafficCounts;
        sourceStream: string;
        sourceRevision: number;
        now: string;
      };
    }
  | {
      /** The records of one report that belong to this shard, at most one per user. */
      type: 'RecordUsage';
      data: { reportId: string; nodeId: string; usages: readonly UsageRecord[]; now: string };
    };

export type QuotaGranted = {
  userId: string;
  grantId: string;
  quotaBytes: number;
  reason: string;
  grantedAt: string;
  subscription?: Subscription;
};
export type QuotaReset = { userId: string; resetId: string; quotaBytes: number; resetAt: string };
/** One report's usage in one shard: the counted records, and the refused ones with why. */
export type UsageReported = {
  reportId: string;
  nodeId: string;
  usages: UsageRecord[];
  refused: RefusedUsage[];
  recordedAt: string;
};
export type QuotaCrossing = { userId: string; usedBytes: number; quotaBytes: number };
/** The users whose usage passed their quota with the report just before (once per crossing). */
export type QuotasExceeded = { reportId: string; users: QuotaCrossing[]; exceededAt: string };

/** A user carried over from its legacy stream, whose last event was sourceRevision. */
export type UserImported = {
  userId: string;
  quotaBytes: number;
  uploadBytes: number;
  downloadBytes: number;
  exceeded: boolean;
  grantIds: string[];
  resetIds: string[];
  sourceStream: string;
  sourceRevision: number;
  importedAt: string;
};

export type TrafficEvent =
  | { type: 'UserImported'; data: UserImported }
  | { type: 'QuotaGranted'; data: QuotaGranted }
  | { type: 'QuotaReset'; data: QuotaReset }
  | { type: 'UsageReported'; data: UsageReported }
  | { type: 'QuotasExceeded'; data: QuotasExceeded };

export const trafficRejections = ['empty_usage', 'quota_overflow'] as const;
export type TrafficRejection = (typeof trafficRejections)[number];
export type TrafficDecision = Decision<TrafficEvent, TrafficRejection>;

/** Byte counts are safe integers ≥ 0 (ajv checked at the edge; asserted in the decider). */
export const isByteCount = (bytes: number): boolean => Number.isSafeInteger(bytes) && bytes >= 0;

/** Upload plus download; the deciders keep it a safe integer. */
export const usedBytesOf = (state: TrafficUserState): number =>
  state.uploadBytes + state.downloadBytes;
