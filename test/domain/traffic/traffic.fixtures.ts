import type { TrafficCommand, TrafficEvent } from '../../../domain/traffic/traffic.decider';

/** Shared builders for the traffic specs; every command happens at the same instant. */
export const now = '2030-01-01T00:00:00.000Z';

export const grant = (grantId: string, quotaBytes: number): TrafficCommand => ({
  type: 'GrantQuota',
  data: { grantId, quotaBytes, reason: 'plan_purchase', now },
});

export const reset = (resetId: string, quotaBytes: number): TrafficCommand => ({
  type: 'ResetQuota',
  data: { resetId, quotaBytes, now },
});

export const usage = (
  reportId: string,
  uploadBytes: number,
  downloadBytes = 0,
): TrafficCommand => ({
  type: 'RecordUsage',
  data: { reportId, nodeId: 'node-1', uploadBytes, downloadBytes, now },
});

export const granted = (grantId: string, quotaBytes: number): TrafficEvent => ({
  type: 'QuotaGranted',
  data: { grantId, quotaBytes, reason: 'plan_purchase', grantedAt: now },
});

export const wasReset = (resetId: string, quotaBytes: number): TrafficEvent => ({
  type: 'QuotaReset',
  data: { resetId, quotaBytes, resetAt: now },
});

export const used = (reportId: string, uploadBytes: number, downloadBytes = 0): TrafficEvent => ({
  type: 'UsageRecorded',
  data: { reportId, nodeId: 'node-1', uploadBytes, downloadBytes, recordedAt: now },
});

export const exceeded = (usedBytes: number, quotaBytes: number): TrafficEvent => ({
  type: 'QuotaExceeded',
  data: { usedBytes, quotaBytes, exceededAt: now },
});
