import type { Decision } from '../decision';

/** Stream traffic-<userId>: one user's quota and usage for the current period. */
export type TrafficCommand =
  | {
      type: 'GrantQuota';
      data: { grantId: string; quotaBytes: number; reason: string; now: string };
    }
  | { type: 'ResetQuota'; data: { resetId: string; quotaBytes: number; now: string } }
  | {
      type: 'RecordUsage';
      data: {
        reportId: string;
        nodeId: string;
        uploadBytes: number;
        downloadBytes: number;
        now: string;
      };
    };

export type QuotaGranted = {
  grantId: string;
  quotaBytes: number;
  reason: string;
  grantedAt: string;
};
export type QuotaReset = { resetId: string; quotaBytes: number; resetAt: string };
export type UsageRecorded = {
  reportId: string;
  nodeId: string;
  uploadBytes: number;
  downloadBytes: number;
  recordedAt: string;
};
export type QuotaExceeded = { usedBytes: number; quotaBytes: number; exceededAt: string };

export type TrafficEvent =
  | { type: 'QuotaGranted'; data: QuotaGranted }
  | { type: 'QuotaReset'; data: QuotaReset }
  | { type: 'UsageRecorded'; data: UsageRecorded }
  | { type: 'QuotaExceeded'; data: QuotaExceeded };

export type TrafficState = Readonly<{
  quotaBytes: number;
  uploadBytes: number;
  downloadBytes: number;
  /** True from the report that crossed the quota until a grant or reset brings usage within it. */
  exceeded: boolean;
  /** Every grant and reset ever applied: they are rare (plans, periods), so kept in full. */
  grantIds: readonly string[];
  resetIds: readonly string[];
  /** The last recentReportCountMax report ids, oldest first. */
  recentReportIds: readonly string[];
}>;

/**
 * Nodes report every few seconds and retry a lost answer within seconds, so a duplicate report
 * lands among the last few; the window is bounded so state stays small for a user with millions
 * of reports. The durable guard against late retries is the API's Idempotency-Key (kept ≥ 24 h).
 */
export const recentReportCountMax = 256;

export const trafficRejections = ['empty_usage', 'usage_overflow', 'quota_overflow'] as const;
export type TrafficRejection = (typeof trafficRejections)[number];
export type TrafficDecision = Decision<TrafficEvent, TrafficRejection>;

/** Initial state: no plan, no quota, so a user's first usage exceeds it (intended). */
export const initialTrafficState: TrafficState = {
  quotaBytes: 0,
  uploadBytes: 0,
  downloadBytes: 0,
  exceeded: false,
  grantIds: [],
  resetIds: [],
  recentReportIds: [],
};

/** Byte counts are safe integers ≥ 0 (ajv checked at the edge; asserted in the decider). */
export const isByteCount = (bytes: number): boolean => Number.isSafeInteger(bytes) && bytes >= 0;

/** Upload plus download; the deciders keep it a safe integer. */
export const usedBytesOf = (state: TrafficState): number => state.uploadBytes + state.downloadBytes;
