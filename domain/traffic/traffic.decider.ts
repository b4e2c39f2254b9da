import type { Aggregate } from '../aggregate';
import { assert } from '../assert';
import { accept, reject } from '../decision';
import { addWithinSafeRange } from '../money';
import { trafficSnapshotCodec } from './traffic.snapshot';
import {
  initialTrafficState,
  isByteCount,
  recentReportCountMax,
  usedBytesOf,
  type TrafficCommand,
  type TrafficDecision,
  type TrafficEvent,
  type TrafficRejection,
  type TrafficState,
} from './traffic.model';

export * from './traffic.model';
export { trafficView, type TrafficView } from './traffic.view';

type Data<Type extends TrafficCommand['type']> = Extract<TrafficCommand, { type: Type }>['data'];

const decideTraffic = (command: TrafficCommand, state: TrafficState): TrafficDecision => {
  switch (command.type) {
    case 'GrantQuota':
      return decideGrant(command.data, state);
    case 'ResetQuota': {
      const { resetId, quotaBytes, now } = command.data;
      assert(isByteCount(quotaBytes), 'ResetQuota: quotaBytes must be a safe integer ≥ 0');
      if (state.resetIds.includes(resetId)) return accept();
      return accept({ type: 'QuotaReset', data: { resetId, quotaBytes, resetAt: now } });
    }
    case 'RecordUsage':
      return decideUsage(command.data, state);
  }
};

const decideGrant = (data: Data<'GrantQuota'>, state: TrafficState): TrafficDecision => {
  const { grantId, quotaBytes, reason, now } = data;
  assert(isByteCount(quotaBytes) && quotaBytes > 0, 'GrantQuota: quotaBytes must be positive');
  if (state.grantIds.includes(grantId)) return accept();
  if (addWithinSafeRange(state.quotaBytes, quotaBytes) === null) return reject('quota_overflow');
  return accept({ type: 'QuotaGranted', data: { grantId, quotaBytes, reason, grantedAt: now } });
};

const decideUsage = (data: Data<'RecordUsage'>, state: TrafficState): TrafficDecision => {
  const { reportId, nodeId, uploadBytes, downloadBytes, now } = data;
  assert(isByteCount(uploadBytes) && isByteCount(downloadBytes), 'RecordUsage: bad byte count');
  if (uploadBytes === 0 && downloadBytes === 0) return reject('empty_usage');
  if (state.recentReportIds.includes(reportId)) return accept(); // A node's retry.
  const totals = addUsage(state, uploadBytes, downloadBytes);
  if (totals === null) return reject('usage_overflow');
  const recorded = {
    type: 'UsageRecorded' as const,
    data: { reportId, nodeId, uploadBytes, downloadBytes, recordedAt: now },
  };
  // Once per crossing: while exceeded, further usage stays silent until a grant or reset.
  if (state.exceeded || totals.usedBytes <= state.quotaBytes) return accept(recorded);
  const { usedBytes } = totals;
  const exceeded = { usedBytes, quotaBytes: state.quotaBytes, exceededAt: now };
  return accept<TrafficEvent>(recorded, { type: 'QuotaExceeded', data: exceeded });
};

/** The totals after a report, or null when one would leave the safe-integer range. */
const addUsage = (
  state: TrafficState,
  uploadBytes: number,
  downloadBytes: number,
): { uploadBytes: number; downloadBytes: number; usedBytes: number } | null => {
  const upload = addWithinSafeRange(state.uploadBytes, uploadBytes);
  const download = addWithinSafeRange(state.downloadBytes, downloadBytes);
  if (upload === null || download === null) return null;
  const used = addWithinSafeRange(upload, download);
  return used === null ? null : { uploadBytes: upload, downloadBytes: download, usedBytes: used };
};

/** Folds one event; every assert pairs with a check in decide, so replay catches a bad stream. */
const evolveTraffic = (state: TrafficState, event: TrafficEvent): TrafficState => {
  switch (event.type) {
    case 'QuotaGranted': {
      const { grantId } = event.data;
      assert(!state.grantIds.includes(grantId), `QuotaGranted: ${grantId} granted twice`);
      const quotaBytes = addWithinSafeRange(state.quotaBytes, event.data.quotaBytes);
      assert(quotaBytes !== null, 'QuotaGranted: quota overflows');
      const exceeded = state.exceeded && usedBytesOf(state) > quotaBytes;
      return { ...state, quotaBytes, exceeded, grantIds: [...state.grantIds, grantId] };
    }
    case 'QuotaReset': {
      const { resetId, quotaBytes } = event.data;
      assert(!state.resetIds.includes(resetId), `QuotaReset: ${resetId} applied twice`);
      assert(isByteCount(quotaBytes), 'QuotaReset: quotaBytes must be a safe integer ≥ 0');
      const period = { quotaBytes, uploadBytes: 0, downloadBytes: 0, exceeded: false };
      return { ...state, ...period, resetIds: [...state.resetIds, resetId] };
    }
    case 'UsageRecorded': {
      const { reportId } = event.data;
      assert(!state.recentReportIds.includes(reportId), `UsageRecorded: ${reportId} twice`);
      const totals = addUsage(state, event.data.uploadBytes, event.data.downloadBytes);
      assert(totals !== null, 'UsageRecorded: usage overflows');
      const { uploadBytes, downloadBytes } = totals;
      const recentReportIds = [...state.recentReportIds, reportId].slice(-recentReportCountMax);
      return { ...state, uploadBytes, downloadBytes, recentReportIds };
    }
    case 'QuotaExceeded': {
      const usedBytes = usedBytesOf(state);
      assert(!state.exceeded && usedBytes > state.quotaBytes, 'QuotaExceeded: quota not crossed');
      assert(
        event.data.usedBytes === usedBytes && event.data.quotaBytes === state.quotaBytes,
        'QuotaExceeded: totals differ from the stream',
      );
      return { ...state, exceeded: true };
    }
  }
};

export const trafficAggregate: Aggregate<
  TrafficCommand,
  TrafficEvent,
  TrafficState,
  TrafficRejection
> = {
  category: 'traffic',
  initialState: initialTrafficState,
  decide: decideTraffic,
  evolve: evolveTraffic,
  snapshotCodec: trafficSnapshotCodec,
};
