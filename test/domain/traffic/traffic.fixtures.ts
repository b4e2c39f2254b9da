import {
  trafficAggregate,
  type QuotaCrossing,
  type RefusedUsage,
  type TrafficCommand,
  type TrafficEvent,
  type TrafficShardState,
  type UsageRecord,
} from '../../../domain/traffic/traffic.decider';

/** Shared builders for the traffic shard specs; every command happens at the same instant. */
export const now = '2030-01-01T00:00:00.000Z';
const nodeId = 'node-1';

/** One user's record in a report: what a node measured for that user. */
export const use = (userId: string, uploadBytes: number, downloadBytes = 0): UsageRecord => ({
  userId,
  uploadBytes,
  downloadBytes,
});

/** A user refused in a report because a total would leave the safe-integer range. */
export const overflowed = (userId: string): RefusedUsage => ({ userId, reason: 'usage_overflow' });

/** A user whose usage passed the quota: usedBytes and quotaBytes after the report. */
export const crossing = (userId: string, usedBytes: number, quotaBytes: number): QuotaCrossing => ({
  userId,
  usedBytes,
  quotaBytes,
});

export const grant = (userId: string, grantId: string, quotaBytes: number): TrafficCommand => ({
  type: 'GrantQuota',
  data: { userId, grantId, quotaBytes, reason: 'plan_purchase', now },
});

export const reset = (userId: string, resetId: string, quotaBytes: number): TrafficCommand => ({
  type: 'ResetQuota',
  data: { userId, resetId, quotaBytes, now },
});

export const report = (reportId: string, usages: readonly UsageRecord[]): TrafficCommand => ({
  type: 'RecordUsage',
  data: { reportId, nodeId, usages, now },
});

export const granted = (userId: string, grantId: string, quotaBytes: number): TrafficEvent => ({
  type: 'QuotaGranted',
  data: { userId, grantId, quotaBytes, reason: 'plan_purchase', grantedAt: now },
});

export const wasReset = (userId: string, resetId: string, quotaBytes: number): TrafficEvent => ({
  type: 'QuotaReset',
  data: { userId, resetId, quotaBytes, resetAt: now },
});

export const reported = (
  reportId: string,
  usages: readonly UsageRecord[],
  refused: readonly RefusedUsage[] = [],
): TrafficEvent => ({
  type: 'UsageReported',
  data: { reportId, nodeId, usages: [...usages], refused: [...refused], recordedAt: now },
});

export const exceeded = (reportId: string, users: readonly QuotaCrossing[]): TrafficEvent => ({
  type: 'QuotasExceeded',
  data: { reportId, users: [...users], exceededAt: now },
});

/** The shard state a history folds to. */
export const stateOf = (events: readonly TrafficEvent[]): TrafficShardState =>
  events.reduce(trafficAggregate.evolve, trafficAggregate.initialState);
