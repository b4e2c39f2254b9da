import { Map as ImmutableMap, OrderedMap } from 'immutable';
import type { Aggregate } from '../aggregate';
import { assert } from '../assert';
import { accept, reject } from '../decision';
import { addWithinSafeRange } from '../money';
import { trafficEventCodec } from './traffic.events';
import { trafficSnapshotCodec } from './traffic.snapshot';
import { isUserLevel } from '../node/node.model';
import {
  initialTrafficUserState,
  isByteCount,
  isSubscribed,
  recentReportCountMax,
  usedBytesOf,
  type QuotaCrossing,
  type RefusedUsage,
  type TrafficCommand,
  type TrafficDecision,
  type TrafficEvent,
  type TrafficRejection,
  type TrafficShardState,
  type TrafficUserState,
  type UsageRecord,
} from './traffic.model';

export * from './traffic.model';
export { trafficView } from './traffic.view';

type Data<Type extends TrafficCommand['type']> = Extract<TrafficCommand, { type: Type }>['data'];

const initialTrafficShardState: TrafficShardState = {
  users: ImmutableMap(),
  recentReports: OrderedMap(),
};

/** A user's state in the shard; users never seen are at the initial state. */
export const trafficUserOf = (state: TrafficShardState, userId: string): TrafficUserState =>
  state.users.get(userId) ?? initialTrafficUserState;

const decideTraffic = (command: TrafficCommand, state: TrafficShardState): TrafficDecision => {
  switch (command.type) {
    case 'GrantQuota':
      return decideGrant(command.data, trafficUserOf(state, command.data.userId));
    case 'ResetQuota': {
      const { userId, resetId, quotaBytes, now } = command.data;
      assert(isByteCount(quotaBytes), 'ResetQuota: quotaBytes must be a safe integer ≥ 0');
      if (trafficUserOf(state, userId).resetIds.includes(resetId)) return accept();
      return accept({ type: 'QuotaReset', data: { userId, resetId, quotaBytes, resetAt: now } });
    }
    case 'RecordUsage':
      return decideUsage(command.data, state);
    case 'ImportUser':
      return decideImport(command.data, state);
  }
};

/** Imports run before the service serves, so a user already in the shard was imported before. */
const decideImport = (data: Data<'ImportUser'>, state: TrafficShardState): TrafficDecision => {
  const { userId, user, sourceStream, sourceRevision, now } = data;
  const { quotaBytes, uploadBytes, downloadBytes, exceeded } = user;
  assert(
    [quotaBytes, uploadBytes, downloadBytes, uploadBytes + downloadBytes, sourceRevision].every(
      isByteCount,
    ),
    'ImportUser: byte counts and sourceRevision must be safe integers ≥ 0',
  );
  if (state.users.has(userId)) return accept();
  const imported = {
    userId,
    quotaBytes,
    uploadBytes,
    downloadBytes,
    exceeded,
    grantIds: [...user.grantIds],
    resetIds: [...user.resetIds],
    sourceStream,
    sourceRevision,
    importedAt: now,
  };
  return accept({ type: 'UserImported', data: imported });
};

const decideGrant = (data: Data<'GrantQuota'>, user: TrafficUserState): TrafficDecision => {
  const { userId, grantId, quotaBytes, reason, now, subscription } = data;
  assert(isByteCount(quotaBytes) && quotaBytes > 0, 'GrantQuota: quotaBytes must be positive');
  if (user.grantIds.includes(grantId)) return accept();
  if (addWithinSafeRange(user.quotaBytes, quotaBytes) === null) return reject('quota_overflow');
  const grantedAt = now;
  const granted = { userId, grantId, quotaBytes, reason, grantedAt };
  if (subscription === undefined) return accept({ type: 'QuotaGranted', data: granted });
  const { durationSeconds, ...terms } = subscription;
  assert(isUserLevel(terms.level), 'GrantQuota: level out of range'); // The plan was checked.
  assert(
    Number.isSafeInteger(durationSeconds) && durationSeconds > 0,
    'GrantQuota: durationSeconds',
  );
  // A plan bought while another runs extends it; bought after expiry, it starts now. The
  // comparison is against the grant's own time, so a purchase racing its expiry has one answer.
  const nowMs = Date.parse(now);
  const fromMs = isSubscribed(user, nowMs) ? Date.parse(user.expiresAt ?? now) : nowMs;
  const expiresAt = new Date(fromMs + durationSeconds * 1000).toISOString();
  return accept({
    type: 'QuotaGranted',
    data: { ...granted, subscription: { ...terms, expiresAt } },
  });
};

const decideUsage = (data: Data<'RecordUsage'>, state: TrafficShardState): TrafficDecision => {
  const { reportId, nodeId, usages: records, now } = data;
  if (records.length === 0) return reject('empty_usage');
  if (state.recentReports.has(reportId)) return accept(); // A node's retry.
  const seen = new Set<string>();
  const usages: UsageRecord[] = [];
  const refused: RefusedUsage[] = [];
  const crossings: QuotaCrossing[] = [];
  for (const record of records) {
    const { userId, uploadBytes, downloadBytes } = record;
    assert(isByteCount(uploadBytes) && isByteCount(downloadBytes), 'RecordUsage: bad byte count');
    assert(uploadBytes + downloadBytes > 0, 'RecordUsage: a record without usage');
    assert(!seen.has(userId), `RecordUsage: ${userId} twice in one report`);
    seen.add(userId);
    const user = trafficUserOf(state, userId);
    const after = addUsage(user, uploadBytes, downloadBytes);
    if (after === null) {
      refused.push({ userId, reason: 'usage_overflow' });
      continue;
    }
    usages.push({ userId, uploadBytes, downloadBytes });
    // Once per crossing: while exceeded, further usage stays silent until a grant or reset.
    const usedBytes = usedBytesOf(after);
    if (!user.exceeded && usedBytes > user.quotaBytes) {
      crossings.push({ userId, usedBytes, quotaBytes: user.quotaBytes });
    }
  }
  const reported: TrafficEvent = {
    type: 'UsageReported',
    data: { reportId, nodeId, usages, refused, recordedAt: now },
  };
  if (crossings.length === 0) return accept(reported);
  const exceeded = { reportId, users: crossings, exceededAt: now };
  return accept<TrafficEvent>(reported, { type: 'QuotasExceeded', data: exceeded });
};

/** The user after a report, or null when a total would leave the safe-integer range. */
const addUsage = (
  user: TrafficUserState,
  uploadBytes: number,
  downloadBytes: number,
): TrafficUserState | null => {
  const upload = addWithinSafeRange(user.uploadBytes, uploadBytes);
  const download = addWithinSafeRange(user.downloadBytes, downloadBytes);
  if (upload === null || download === null) return null;
  if (addWithinSafeRange(upload, download) === null) return null;
  return { ...user, uploadBytes: upload, downloadBytes: download };
};

/** One user's part of an event: the user it changes and how. */
type TrafficUserChange = {
  userId: string;
  apply: (user: TrafficUserState) => TrafficUserState;
};

/**
 * What an event does to each user it names, in the order it names them. The shard's evolve and
 * the read side's projection both fold with it, so they cannot drift apart. Every assert pairs
 * with a check in decide, so replay catches a bad stream.
 */
export const trafficUserChangesOf = (event: TrafficEvent): TrafficUserChange[] => {
  switch (event.type) {
    case 'UserImported': {
      const { userId, quotaBytes, uploadBytes, downloadBytes, exceeded } = event.data;
      const { grantIds, resetIds } = event.data;
      // The imported state replaces whatever the read side held from the legacy stream.
      const counts = { quotaBytes, uploadBytes, downloadBytes, exceeded, grantIds, resetIds };
      // Legacy streams knew no levels: the user keeps whatever level it had here (none).
      return [{ userId, apply: (user) => ({ ...user, ...counts }) }];
    }
    case 'QuotaGranted': {
      const { userId, grantId } = event.data;
      const apply = (user: TrafficUserState): TrafficUserState => {
        assert(!user.grantIds.includes(grantId), `QuotaGranted: ${grantId} granted twice`);
        const quotaBytes = addWithinSafeRange(user.quotaBytes, event.data.quotaBytes);
        assert(quotaBytes !== null, 'QuotaGranted: quota overflows');
        const exceeded = user.exceeded && usedBytesOf(user) > quotaBytes;
        const granted = { ...user, quotaBytes, exceeded, grantIds: [...user.grantIds, grantId] };
        const { subscription } = event.data;
        if (subscription === undefined) return granted;
        assert(isUserLevel(subscription.level), 'QuotaGranted: level out of range');
        const { level, group, expiresAt } = subscription;
        return { ...granted, level, group, expiresAt };
      };
      return [{ userId, apply }];
    }
    case 'QuotaReset': {
      const { userId, resetId, quotaBytes } = event.data;
      const apply = (user: TrafficUserState): TrafficUserState => {
        assert(!user.resetIds.includes(resetId), `QuotaReset: ${resetId} applied twice`);
        assert(isByteCount(quotaBytes), 'QuotaReset: quotaBytes must be a safe integer ≥ 0');
        const period = { quotaBytes, uploadBytes: 0, downloadBytes: 0, exceeded: false };
        return { ...user, ...period, resetIds: [...user.resetIds, resetId] };
      };
      return [{ userId, apply }];
    }
    case 'UsageReported':
      return event.data.usages.map(({ userId, uploadBytes, downloadBytes }) => ({
        userId,
        apply: (user) => {
          assert(isByteCount(uploadBytes) && isByteCount(downloadBytes), 'UsageReported: bytes');
          const after = addUsage(user, uploadBytes, downloadBytes);
          assert(after !== null, `UsageReported: usage of ${userId} overflows`);
          return after;
        },
      }));
    case 'QuotasExceeded':
      return event.data.users.map((crossing) => ({
        userId: crossing.userId,
        apply: (user) => {
          const usedBytes = usedBytesOf(user);
          assert(!user.exceeded && usedBytes > user.quotaBytes, 'QuotasExceeded: not crossed');
          assert(
            crossing.usedBytes === usedBytes && crossing.quotaBytes === user.quotaBytes,
            'QuotasExceeded: totals differ from the stream',
          );
          return { ...user, exceeded: true };
        },
      }));
  }
};

const evolveTraffic = (state: TrafficShardState, event: TrafficEvent): TrafficShardState => {
  if (event.type === 'UserImported') {
    assert(!state.users.has(event.data.userId), `UserImported: ${event.data.userId} twice`);
  }
  const users = state.users.withMutations((draft) => {
    for (const { userId, apply } of trafficUserChangesOf(event)) {
      draft.set(userId, apply(draft.get(userId) ?? initialTrafficUserState));
    }
  });
  if (event.type !== 'UsageReported') return { ...state, users };
  const { reportId, refused } = event.data;
  assert(!state.recentReports.has(reportId), `UsageReported: ${reportId} twice`);
  return { users, recentReports: rememberReport(state.recentReports, reportId, refused) };
};

const rememberReport = (
  recentReports: TrafficShardState['recentReports'],
  reportId: string,
  refused: readonly RefusedUsage[],
): TrafficShardState['recentReports'] => {
  const remembered = recentReports.set(reportId, refused);
  if (remembered.size <= recentReportCountMax) return remembered;
  const oldest = remembered.keySeq().first();
  return oldest === undefined ? remembered : remembered.delete(oldest);
};

export const trafficAggregate: Aggregate<
  TrafficCommand,
  TrafficEvent,
  TrafficShardState,
  TrafficRejection
> = {
  category: 'trafficshard',
  initialState: initialTrafficShardState,
  decide: decideTraffic,
  evolve: evolveTraffic,
  eventCodec: trafficEventCodec,
  snapshotCodec: trafficSnapshotCodec,
};
