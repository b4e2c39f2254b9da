import type { Aggregate, StreamFold } from '../aggregate';
import { assert } from '../assert';
import { accept, reject, type RejectionDetail } from '../decision';
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
  type MutableTrafficUser,
  type QuotaCrossing,
  type QuotaGranted,
  type QuotaReset,
  type RefusedUsage,
  type TrafficCommand,
  type TrafficDecision,
  type TrafficEvent,
  type TrafficRejection,
  type TrafficShardState,
  type TrafficShardView,
  type TrafficUserState,
  type UsageRecord,
  type UserImported,
} from './traffic.model';

export * from './traffic.model';
export { trafficView } from './traffic.view';

type Data<Type extends TrafficCommand['type']> = Extract<TrafficCommand, { type: Type }>['data'];

/** A shard with no user and no report, owned by the caller. */
export const newTrafficShardState = (): TrafficShardState => ({
  users: new Map(),
  recentReports: new Map(),
});

/** Where every fold starts; never written (applyTrafficEvent refuses it). */
const EMPTY_SHARD: TrafficShardState = newTrafficShardState();

/** A user's state in the shard; users never seen are at the initial state. */
export const trafficUserOf = (state: TrafficShardView, userId: string): TrafficUserState =>
  state.users.get(userId) ?? initialTrafficUserState;

const newUser = (): MutableTrafficUser => ({ ...initialTrafficUserState });

// The rules of each event for one user, applied in place. The writer's shards, the pure evolve,
// a batch's overlay and the legacy import (trafficUserChangesOf) all apply these, so they cannot
// drift apart; the read side's columnar fold (projections/traffic-users.ts) is tested against them. Every assert pairs with a check in decide, so replay catches a bad stream.

const importInto = (user: MutableTrafficUser, data: UserImported): void => {
  // The imported state replaces whatever the read side held from the legacy stream. Legacy
  // streams knew no levels: the user keeps whatever level it had here (none).
  user.quotaBytes = data.quotaBytes;
  user.uploadBytes = data.uploadBytes;
  user.downloadBytes = data.downloadBytes;
  user.exceeded = data.exceeded;
  user.grantIds = data.grantIds;
  user.resetIds = data.resetIds;
};

const grantInto = (user: MutableTrafficUser, data: QuotaGranted): void => {
  const { grantId, subscription } = data;
  assert(!user.grantIds.includes(grantId), `QuotaGranted: ${grantId} granted twice`);
  const quotaBytes = addWithinSafeRange(user.quotaBytes, data.quotaBytes);
  assert(quotaBytes !== null, 'QuotaGranted: quota overflows');
  user.exceeded = user.exceeded && usedBytesOf(user) > quotaBytes;
  user.quotaBytes = quotaBytes;
  user.grantIds = [...user.grantIds, grantId];
  if (subscription === undefined) return;
  assert(isUserLevel(subscription.level), 'QuotaGranted: level out of range');
  user.level = subscription.level;
  user.group = subscription.group;
  user.expiresAt = subscription.expiresAt;
};

const resetInto = (user: MutableTrafficUser, data: QuotaReset): void => {
  const { resetId, quotaBytes } = data;
  assert(!user.resetIds.includes(resetId), `QuotaReset: ${resetId} applied twice`);
  assert(isByteCount(quotaBytes), 'QuotaReset: quotaBytes must be a safe integer ≥ 0');
  user.quotaBytes = quotaBytes;
  user.uploadBytes = 0;
  user.downloadBytes = 0;
  user.exceeded = false;
  user.resetIds = [...user.resetIds, resetId];
};

/** The totals after adding a usage, or null when one would leave the safe-integer range. */
const totalsAfter = (
  user: TrafficUserState,
  uploadBytes: number,
  downloadBytes: number,
): { upload: number; download: number } | null => {
  const upload = user.uploadBytes + uploadBytes;
  const download = user.downloadBytes + downloadBytes;
  if (!Number.isSafeInteger(upload + download)) return null;
  return { upload, download };
};

const usageInto = (user: MutableTrafficUser, usage: UsageRecord): void => {
  const { uploadBytes, downloadBytes } = usage;
  assert(isByteCount(uploadBytes) && isByteCount(downloadBytes), 'UsageReported: bytes');
  const upload = user.uploadBytes + uploadBytes;
  const download = user.downloadBytes + downloadBytes;
  // Both addends ≥ 0, so a safe sum means both totals are safe too.
  assert(
    Number.isSafeInteger(upload + download),
    `UsageReported: usage of ${usage.userId} overflows`,
  );
  user.uploadBytes = upload;
  user.downloadBytes = download;
};

const crossingInto = (user: MutableTrafficUser, crossing: QuotaCrossing): void => {
  const usedBytes = usedBytesOf(user);
  assert(!user.exceeded && usedBytes > user.quotaBytes, 'QuotasExceeded: not crossed');
  assert(
    crossing.usedBytes === usedBytes && crossing.quotaBytes === user.quotaBytes,
    'QuotasExceeded: totals differ from the stream',
  );
  user.exceeded = true;
};

/** One user's part of an event: the user it changes and how. */
type TrafficUserChange = {
  userId: string;
  apply: (user: TrafficUserState) => TrafficUserState;
};

const changeOf =
  <Data>(rule: (user: MutableTrafficUser, data: Data) => void, data: Data) =>
  (user: TrafficUserState): TrafficUserState => {
    const changed = { ...user };
    rule(changed, data);
    return changed;
  };

/**
 * What an event does to each user it names, in the order it names them, as pure functions (the
 * legacy import folds with it). The rules are the writer's own.
 */
export const trafficUserChangesOf = (event: TrafficEvent): TrafficUserChange[] => {
  switch (event.type) {
    case 'UserImported':
      return [{ userId: event.data.userId, apply: changeOf(importInto, event.data) }];
    case 'QuotaGranted':
      return [{ userId: event.data.userId, apply: changeOf(grantInto, event.data) }];
    case 'QuotaReset':
      return [{ userId: event.data.userId, apply: changeOf(resetInto, event.data) }];
    case 'UsageReported':
      return event.data.usages.map((usage) => ({
        userId: usage.userId,
        apply: changeOf(usageInto, usage),
      }));
    case 'QuotasExceeded':
      return event.data.users.map((crossing) => ({
        userId: crossing.userId,
        apply: changeOf(crossingInto, crossing),
      }));
  }
};

/** Where an event's changes land: the user to write (created or copied as the target needs). */
type ShardTarget = {
  writable: (userId: string) => MutableTrafficUser;
  hasUser: (userId: string) => boolean;
  hasReport: (reportId: string) => boolean;
  rememberReport: (reportId: string, refused: readonly RefusedUsage[]) => void;
};

const applyTo = (target: ShardTarget, event: TrafficEvent): void => {
  switch (event.type) {
    case 'UserImported': {
      const { userId } = event.data;
      assert(!target.hasUser(userId), `UserImported: ${userId} twice`);
      importInto(target.writable(userId), event.data);
      return;
    }
    case 'QuotaGranted':
      grantInto(target.writable(event.data.userId), event.data);
      return;
    case 'QuotaReset':
      resetInto(target.writable(event.data.userId), event.data);
      return;
    case 'UsageReported': {
      const { reportId, usages, refused } = event.data;
      assert(!target.hasReport(reportId), `UsageReported: ${reportId} twice`);
      for (const usage of usages) usageInto(target.writable(usage.userId), usage);
      target.rememberReport(reportId, refused);
      return;
    }
    case 'QuotasExceeded':
      for (const crossing of event.data.users) {
        crossingInto(target.writable(crossing.userId), crossing);
      }
      return;
  }
};

/** Remembers a report, forgetting the oldest past recentReportCountMax. */
const remember = (
  recentReports: TrafficShardState['recentReports'],
  reportId: string,
  refused: readonly RefusedUsage[],
): void => {
  recentReports.set(reportId, refused);
  if (recentReports.size <= recentReportCountMax) return;
  const oldest = recentReports.keys().next();
  if (oldest.done !== true) recentReports.delete(oldest.value);
};

/**
 * Applies a committed event to a shard in place: its owner's one way of changing it. A throw
 * (a bug or a damaged stream) may leave it half applied: the owner then drops it and reloads.
 */
export const applyTrafficEvent = (state: TrafficShardState, event: TrafficEvent): void => {
  assert(state !== EMPTY_SHARD, 'applyTrafficEvent: the shared empty shard is never written');
  const { users, recentReports } = state;
  applyTo(
    {
      writable: (userId) => {
        const user = users.get(userId);
        if (user !== undefined) return user;
        const created = newUser();
        users.set(userId, created);
        return created;
      },
      hasUser: (userId) => users.has(userId),
      hasReport: (reportId) => recentReports.has(reportId),
      rememberReport: (reportId, refused) => remember(recentReports, reportId, refused),
    },
    event,
  );
};

/** The pure evolve: a new state, the given one untouched (tests and the generic runtime use it). */
const evolveCopy = (state: TrafficShardState, event: TrafficEvent): TrafficShardState => {
  const next = { users: new Map(state.users), recentReports: new Map(state.recentReports) };
  const copied = new Set<string>();
  applyTo(
    {
      writable: (userId) => {
        const user = next.users.get(userId);
        if (user !== undefined && copied.has(userId)) return user;
        const copy = user === undefined ? newUser() : { ...user };
        copied.add(userId);
        next.users.set(userId, copy);
        return copy;
      },
      hasUser: (userId) => next.users.has(userId),
      hasReport: (reportId) => next.recentReports.has(reportId),
      rememberReport: (reportId, refused) => remember(next.recentReports, reportId, refused),
    },
    event,
  );
  return next;
};

/**
 * What the commands decided before the current one in a batch changed, over the shard they read:
 * each command sees the ones before it, and the shard itself is never written.
 */
const overlayOf = (shard: TrafficShardView) => {
  const users = new Map<string, MutableTrafficUser>();
  const reports = new Map<string, readonly RefusedUsage[]>();
  const userOf = (userId: string): TrafficUserState =>
    users.get(userId) ?? shard.users.get(userId) ?? initialTrafficUserState;
  const refusedOf = (reportId: string): readonly RefusedUsage[] | undefined =>
    reports.get(reportId) ?? shard.recentReports.get(reportId);
  const hasUser = (userId: string): boolean => users.has(userId) || shard.users.has(userId);
  const target: ShardTarget = {
    writable: (userId) => {
      const user = users.get(userId);
      if (user !== undefined) return user;
      const copy = { ...userOf(userId) };
      users.set(userId, copy);
      return copy;
    },
    hasUser,
    hasReport: (reportId) => refusedOf(reportId) !== undefined,
    rememberReport: (reportId, refused) => {
      reports.set(reportId, refused);
    },
  };
  return { userOf, refusedOf, hasUser, target };
};

type ShardReader = Omit<ReturnType<typeof overlayOf>, 'target'>;

/** What a command's caller is told besides the events. */
export type TrafficAnswer =
  /** A report's part in this shard: its refused users, and those of its users now over quota. */
  | { kind: 'usage'; refused: readonly RefusedUsage[]; exceededUserIds: readonly string[] }
  /** A grant, reset or import: the user as the command left it. */
  | { kind: 'user'; user: TrafficUserState };

type TrafficCommandDecision =
  | { ok: true; events: readonly TrafficEvent[]; answer: TrafficAnswer }
  | { ok: false; rejection: TrafficRejection; detail: RejectionDetail };

/** Imports run before the service serves, so a user already in the shard was imported before. */
const decideImport = (data: Data<'ImportUser'>, reader: ShardReader): TrafficDecision => {
  const { userId, user, sourceStream, sourceRevision, now } = data;
  const { quotaBytes, uploadBytes, downloadBytes, exceeded } = user;
  assert(
    [quotaBytes, uploadBytes, downloadBytes, uploadBytes + downloadBytes, sourceRevision].every(
      isByteCount,
    ),
    'ImportUser: byte counts and sourceRevision must be safe integers ≥ 0',
  );
  if (reader.hasUser(userId)) return accept();
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

const decideReset = (data: Data<'ResetQuota'>, user: TrafficUserState): TrafficDecision => {
  const { userId, resetId, quotaBytes, now } = data;
  assert(isByteCount(quotaBytes), 'ResetQuota: quotaBytes must be a safe integer ≥ 0');
  if (user.resetIds.includes(resetId)) return accept();
  return accept({ type: 'QuotaReset', data: { userId, resetId, quotaBytes, resetAt: now } });
};

/** A report's records in this shard, each against the user as the batch so far left it. */
const decideUsage = (data: Data<'RecordUsage'>, reader: ShardReader): TrafficCommandDecision => {
  const { reportId, nodeId, usages: records, now } = data;
  if (records.length === 0) return reject('empty_usage');
  const exceededUserIds: string[] = [];
  const known = reader.refusedOf(reportId);
  if (known !== undefined) {
    // A node's retry: nothing counted again, the same refusals, the users as they are now.
    for (const { userId } of records) {
      if (reader.userOf(userId).exceeded) exceededUserIds.push(userId);
    }
    return { ok: true, events: [], answer: { kind: 'usage', refused: known, exceededUserIds } };
  }
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
    const user = reader.userOf(userId);
    const after = totalsAfter(user, uploadBytes, downloadBytes);
    if (after === null) {
      refused.push({ userId, reason: 'usage_overflow' });
      if (user.exceeded) exceededUserIds.push(userId);
      continue;
    }
    usages.push(record);
    if (user.exceeded) {
      exceededUserIds.push(userId);
      continue; // Once per crossing: while exceeded, usage stays silent until a grant or reset.
    }
    const usedBytes = after.upload + after.download;
    if (usedBytes > user.quotaBytes) {
      crossings.push({ userId, usedBytes, quotaBytes: user.quotaBytes });
      exceededUserIds.push(userId);
    }
  }
  const reported: TrafficEvent = {
    type: 'UsageReported',
    data: { reportId, nodeId, usages, refused, recordedAt: now },
  };
  const answer: TrafficAnswer = { kind: 'usage', refused, exceededUserIds };
  if (crossings.length === 0) return { ok: true, events: [reported], answer };
  const exceeded: TrafficEvent = {
    type: 'QuotasExceeded',
    data: { reportId, users: crossings, exceededAt: now },
  };
  return { ok: true, events: [reported, exceeded], answer };
};

/** A single-user command's decision, with the user as its events leave it. */
const decideOnUser = (
  decision: TrafficDecision,
  userId: string,
  reader: ReturnType<typeof overlayOf>,
): TrafficCommandDecision => {
  if (!decision.ok) return decision;
  for (const event of decision.events) applyTo(reader.target, event);
  return {
    ok: true,
    events: decision.events,
    answer: { kind: 'user', user: { ...reader.userOf(userId) } },
  };
};

/**
 * A shard's commands decided in arrival order, each seeing what the ones before it decided (an
 * overlay over the shard: sums stay exact and a crossing is announced once however many reports
 * of one batch touch a user). Pure: the shard is only read; the caller applies the events once
 * they are committed.
 */
export const decideTrafficShard = (
  shard: TrafficShardView,
  commands: readonly TrafficCommand[],
): TrafficCommandDecision[] => {
  const overlay = overlayOf(shard);
  return commands.map((command, index): TrafficCommandDecision => {
    switch (command.type) {
      case 'GrantQuota': {
        const { userId } = command.data;
        return decideOnUser(decideGrant(command.data, overlay.userOf(userId)), userId, overlay);
      }
      case 'ResetQuota': {
        const { userId } = command.data;
        return decideOnUser(decideReset(command.data, overlay.userOf(userId)), userId, overlay);
      }
      case 'ImportUser':
        return decideOnUser(decideImport(command.data, overlay), command.data.userId, overlay);
      case 'RecordUsage': {
        const decided = decideUsage(command.data, overlay);
        // The last command of the batch leaves nothing for a later one to see.
        if (decided.ok && index < commands.length - 1) {
          for (const event of decided.events) applyTo(overlay.target, event);
        }
        return decided;
      }
    }
  });
};

const decideTraffic = (command: TrafficCommand, state: TrafficShardState): TrafficDecision => {
  const [decided] = decideTrafficShard(state, [command]);
  assert(decided !== undefined, 'traffic: one command, one decision');
  return decided.ok ? accept(...decided.events) : decided;
};

/**
 * The shard's fold for its owner: evolve writes the state it is given (a fresh one in place of
 * the shared empty shard) and returns it. Loads and audits, which own what they fold, use it.
 */
export const trafficShardFold: StreamFold<TrafficEvent, TrafficShardState> = {
  category: 'trafficshard',
  initialState: EMPTY_SHARD,
  evolve: (state, event) => {
    const owned = state === EMPTY_SHARD ? newTrafficShardState() : state;
    applyTrafficEvent(owned, event);
    return owned;
  },
  eventCodec: trafficEventCodec,
  snapshotCodec: trafficSnapshotCodec,
};

/**
 * The shard as a pure aggregate: evolve copies (O(users) per event), for the generic runtime and
 * the specs. The traffic writer decides with decideTrafficShard and folds with trafficShardFold.
 */
export const trafficAggregate: Aggregate<
  TrafficCommand,
  TrafficEvent,
  TrafficShardState,
  TrafficRejection
> = {
  category: 'trafficshard',
  initialState: EMPTY_SHARD,
  decide: decideTraffic,
  evolve: evolveCopy,
  eventCodec: trafficEventCodec,
  snapshotCodec: trafficSnapshotCodec,
};
