import type { Aggregate, StreamFold } from '../aggregate';
import { assert } from '../assert';
import { accept, reject, type RejectionDetail } from '../decision';
import { addWithinSafeRange } from '../money';
import { trafficEventCodec } from './traffic.events';
import { trafficSnapshotCodec } from './traffic.snapshot';
import { isUserLevel } from '../node/node.model';
import { TrafficUserTable } from './traffic-user-table';
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
  trafficUserHashOf,
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

/** A shard's users by id and hash (TrafficUserTable), each entry's user object beside it. */
type ShardIndex = { readonly table: TrafficUserTable; readonly users: MutableTrafficUser[] };

/**
 * Each shard's index, made on the first batch decided on it and kept in step by putUser, the one
 * way a user enters or is replaced in a shard. Keyed by the state object: a shard reloaded or
 * folded anew is a new object and gets its own.
 */
const shardIndexes = new WeakMap<TrafficShardState, ShardIndex>();

const shardIndexOf = (shard: TrafficShardState): ShardIndex => {
  const known = shardIndexes.get(shard);
  if (known !== undefined) {
    // Pairs with putUser: nothing adds a user to a shard but it.
    assert(known.users.length === shard.users.size, 'traffic: a shard index out of step');
    return known;
  }
  const index: ShardIndex = { table: new TrafficUserTable(shard.users.size), users: [] };
  for (const [userId, user] of shard.users) {
    index.table.add(userId, trafficUserHashOf(userId));
    index.users.push(user);
  }
  shardIndexes.set(shard, index);
  return index;
};

/** Puts a user into a shard (new, or a copy replacing it), and into the shard's index if any. */
const putUser = (state: TrafficShardState, userId: string, user: MutableTrafficUser): void => {
  const index = shardIndexes.get(state);
  if (index !== undefined) {
    const userHash = trafficUserHashOf(userId);
    const entry = index.table.find(userId, userHash);
    if (entry >= 0) index.users[entry] = user;
    else index.users[index.table.add(userId, userHash)] = user;
  }
  state.users.set(userId, user);
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
        putUser(state, userId, created);
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
 * each command sees the ones before it, and the shard itself is never written. One mutable
 * overlay per batch, dropped with it: reports change only a user's totals and exceeded flag, kept
 * in parallel arrays at a slot per user (no copy of a user per record, so no garbage per record);
 * grants, resets and imports (rare) take a whole copy of their user. A slot, where there is one,
 * is newer than the copy.
 */
type Overlay = {
  readonly shard: TrafficShardState;
  readonly index: ShardIndex;
  readonly copies: Map<string, MutableTrafficUser>;
  /** The users with a slot, an entry each: a slot is its entry (retired once a copy holds it). */
  readonly slots: TrafficUserTable;
  /** The user object a slot started from (the shard's or a copy); undefined: a new user. */
  readonly bases: (MutableTrafficUser | undefined)[];
  readonly uploadBytes: number[];
  readonly downloadBytes: number[];
  readonly quotaBytes: number[];
  readonly exceeded: boolean[];
  /** The index of the last command that reported the user (a report names a user once). */
  readonly reportedBy: number[];
  readonly reports: Map<string, readonly RefusedUsage[]>;
};

const overlayOf = (shard: TrafficShardState, userCountHint: number): Overlay => ({
  shard,
  index: shardIndexOf(shard),
  copies: new Map(),
  slots: new TrafficUserTable(userCountHint),
  bases: [],
  uploadBytes: [],
  downloadBytes: [],
  quotaBytes: [],
  exceeded: [],
  reportedBy: [],
  reports: new Map(),
});

/** The user before this batch's reports: its copy, or the shard's, or a new one. */
const baseObjectOf = (
  overlay: Overlay,
  userId: string,
  userHash: number,
): MutableTrafficUser | undefined => {
  const copy = overlay.copies.size === 0 ? undefined : overlay.copies.get(userId);
  if (copy !== undefined) return copy;
  const entry = overlay.index.table.find(userId, userHash);
  return entry < 0 ? undefined : overlay.index.users[entry];
};

const baseUserOf = (overlay: Overlay, userId: string): TrafficUserState =>
  baseObjectOf(overlay, userId, trafficUserHashOf(userId)) ?? initialTrafficUserState;

/** The user's slot in the overlay, else -1. */
const slotIn = (overlay: Overlay, userId: string): number =>
  overlay.slots.find(userId, trafficUserHashOf(userId));

/** The user as the batch so far leaves it. */
const overlayUserOf = (overlay: Overlay, userId: string): TrafficUserState => {
  const base = baseUserOf(overlay, userId);
  const slot = slotIn(overlay, userId);
  if (slot < 0) return base;
  return {
    ...base,
    uploadBytes: overlay.uploadBytes[slot] ?? base.uploadBytes,
    downloadBytes: overlay.downloadBytes[slot] ?? base.downloadBytes,
    exceeded: overlay.exceeded[slot] ?? base.exceeded,
  };
};

const exceededIn = (overlay: Overlay, userId: string): boolean => {
  const slot = slotIn(overlay, userId);
  if (slot >= 0) return overlay.exceeded[slot] === true;
  return baseUserOf(overlay, userId).exceeded;
};

const refusedIn = (overlay: Overlay, reportId: string): readonly RefusedUsage[] | undefined =>
  overlay.reports.get(reportId) ?? overlay.shard.recentReports.get(reportId);

const hasUserIn = (overlay: Overlay, userId: string): boolean =>
  overlay.copies.has(userId) || slotIn(overlay, userId) >= 0 || overlay.shard.users.has(userId);

/** Where a grant's, reset's or import's event lands in the overlay: a whole copy of its user. */
const overlayTarget = (overlay: Overlay): ShardTarget => ({
  writable: (userId) => {
    const known = overlay.copies.get(userId);
    const slot = slotIn(overlay, userId);
    if (known !== undefined && slot < 0) return known;
    const copy = { ...overlayUserOf(overlay, userId) };
    if (slot >= 0) overlay.slots.retire(slot); // The copy now holds the totals.
    overlay.copies.set(userId, copy);
    return copy;
  },
  hasUser: (userId) => hasUserIn(overlay, userId),
  hasReport: (reportId) => refusedIn(overlay, reportId) !== undefined,
  rememberReport: (reportId, refused) => {
    overlay.reports.set(reportId, refused);
  },
});

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
const decideImport = (data: Data<'ImportUser'>, overlay: Overlay): TrafficDecision => {
  const { userId, user, sourceStream, sourceRevision, now } = data;
  const { quotaBytes, uploadBytes, downloadBytes, exceeded } = user;
  assert(
    [quotaBytes, uploadBytes, downloadBytes, uploadBytes + downloadBytes, sourceRevision].every(
      isByteCount,
    ),
    'ImportUser: byte counts and sourceRevision must be safe integers ≥ 0',
  );
  if (hasUserIn(overlay, userId)) return accept();
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

/** The slot of a user in the overlay, made from its base state the first time a report names it. */
const slotOf = (overlay: Overlay, userId: string): number => {
  const userHash = trafficUserHashOf(userId);
  const known = overlay.slots.find(userId, userHash);
  if (known >= 0) return known;
  const object = baseObjectOf(overlay, userId, userHash);
  const base = object ?? initialTrafficUserState;
  const slot = overlay.slots.add(userId, userHash);
  assert(slot === overlay.uploadBytes.length, 'traffic: an overlay slot out of step');
  overlay.bases.push(object);
  overlay.uploadBytes.push(base.uploadBytes);
  overlay.downloadBytes.push(base.downloadBytes);
  overlay.quotaBytes.push(base.quotaBytes);
  overlay.exceeded.push(base.exceeded);
  overlay.reportedBy.push(-1);
  return slot;
};

/**
 * A report's records in this shard, each against the user as the batch so far left it; what it
 * counts goes into the overlay at once (the next command of the batch sees it). The same rules
 * as usageInto and crossingInto, which replay the events: each check here pairs with an assert
 * there.
 */
const decideUsage = (
  data: Data<'RecordUsage'>,
  overlay: Overlay,
  commandIndex: number,
): TrafficCommandDecision => {
  const { reportId, nodeId, usages: records, now } = data;
  if (records.length === 0) return reject('empty_usage');
  const exceededUserIds: string[] = [];
  const known = refusedIn(overlay, reportId);
  if (known !== undefined) {
    // A node's retry: nothing counted again, the same refusals, the users as they are now.
    for (const { userId } of records) {
      if (exceededIn(overlay, userId)) exceededUserIds.push(userId);
    }
    return { ok: true, events: [], answer: { kind: 'usage', refused: known, exceededUserIds } };
  }
  const { uploadBytes: uploads, downloadBytes: downloads, quotaBytes: quotas } = overlay;
  const { exceeded: exceededFlags, reportedBy } = overlay;
  const usages: UsageRecord[] = [];
  const refused: RefusedUsage[] = [];
  const crossings: QuotaCrossing[] = [];
  for (let index = 0; index < records.length; index += 1) {
    const record = records[index] as UsageRecord;
    const { userId, uploadBytes, downloadBytes } = record;
    assert(isByteCount(uploadBytes) && isByteCount(downloadBytes), 'RecordUsage: bad byte count');
    assert(uploadBytes + downloadBytes > 0, 'RecordUsage: a record without usage');
    const slot = slotOf(overlay, userId);
    assert(reportedBy[slot] !== commandIndex, `RecordUsage: ${userId} twice in one report`);
    reportedBy[slot] = commandIndex;
    const upload = (uploads[slot] as number) + uploadBytes;
    const download = (downloads[slot] as number) + downloadBytes;
    const wasExceeded = exceededFlags[slot] === true;
    // Both addends ≥ 0, so a safe sum means both totals are safe too.
    if (!Number.isSafeInteger(upload + download)) {
      refused.push({ userId, reason: 'usage_overflow' });
      if (wasExceeded) exceededUserIds.push(userId);
      continue;
    }
    usages.push(record);
    uploads[slot] = upload;
    downloads[slot] = download;
    if (wasExceeded) {
      exceededUserIds.push(userId);
      continue; // Once per crossing: while exceeded, usage stays silent until a grant or reset.
    }
    const usedBytes = upload + download;
    const quotaBytes = quotas[slot] as number;
    if (usedBytes > quotaBytes) {
      crossings.push({ userId, usedBytes, quotaBytes });
      exceededFlags[slot] = true;
      exceededUserIds.push(userId);
    }
  }
  overlay.reports.set(reportId, refused);
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
  overlay: Overlay,
): TrafficCommandDecision => {
  if (!decision.ok) return decision;
  const target = overlayTarget(overlay);
  for (const event of decision.events) applyTo(target, event);
  return {
    ok: true,
    events: decision.events,
    answer: { kind: 'user', user: { ...overlayUserOf(overlay, userId) } },
  };
};

/**
 * What committing a shard's batch does to the shard, once its events are durable: exactly what
 * applying them in order does (the property tests compare the two), without finding each user
 * again. Totals go into the user objects the slots started from, new users and copies go into
 * the map, reports are remembered in their order.
 */
const commitOverlay = (overlay: Overlay, state: TrafficShardState): void => {
  assert(state === overlay.shard, 'traffic: a batch commits onto the shard it was decided on');
  assert(state !== EMPTY_SHARD, 'traffic: the shared empty shard is never written');
  const { slots, bases, uploadBytes, downloadBytes, exceeded, copies } = overlay;
  for (let slot = 0; slot < slots.entryCount; slot += 1) {
    if (!slots.isLive(slot)) continue;
    let user = bases[slot];
    if (user === undefined) {
      // A new user whose every record was refused: no event counted anything of it.
      if (uploadBytes[slot] === 0 && downloadBytes[slot] === 0) continue;
      user = newUser();
      putUser(state, slots.ids[slot] ?? '', user);
    }
    user.uploadBytes = uploadBytes[slot] ?? user.uploadBytes;
    user.downloadBytes = downloadBytes[slot] ?? user.downloadBytes;
    user.exceeded = exceeded[slot] ?? user.exceeded;
  }
  for (const [userId, copy] of copies) putUser(state, userId, copy);
  for (const [reportId, refused] of overlay.reports)
    remember(state.recentReports, reportId, refused);
};

/** A shard's batch decided: each command's decision, and how to commit it onto the shard. */
type TrafficShardBatch = {
  decisions: TrafficCommandDecision[];
  /** Call once the accepted events are durable; never after a failed append. */
  commit: (state: TrafficShardState) => void;
};

/**
 * A shard's commands decided in arrival order, each seeing what the ones before it decided (an
 * overlay over the shard: sums stay exact and a crossing is announced once however many reports
 * of one batch touch a user). Pure until commit: the shard is only read, the overlay is the
 * batch's own; a failed append drops it and the shard is as it was.
 */
export const decideTrafficShardBatch = (
  shard: TrafficShardState,
  commands: readonly TrafficCommand[],
): TrafficShardBatch => {
  let recordCount = 0;
  for (const command of commands)
    recordCount += command.type === 'RecordUsage' ? command.data.usages.length : 1;
  const overlay = overlayOf(shard, recordCount);
  const decisions = commands.map((command, index): TrafficCommandDecision => {
    switch (command.type) {
      case 'GrantQuota': {
        const { userId } = command.data;
        const user = overlayUserOf(overlay, userId);
        return decideOnUser(decideGrant(command.data, user), userId, overlay);
      }
      case 'ResetQuota': {
        const { userId } = command.data;
        const user = overlayUserOf(overlay, userId);
        return decideOnUser(decideReset(command.data, user), userId, overlay);
      }
      case 'ImportUser': {
        const { userId } = command.data;
        return decideOnUser(decideImport(command.data, overlay), userId, overlay);
      }
      case 'RecordUsage':
        return decideUsage(command.data, overlay, index);
    }
  });
  return { decisions, commit: (state) => commitOverlay(overlay, state) };
};

/** The decisions alone: the shard is only read (specs, the generic aggregate). */
export const decideTrafficShard = (
  shard: TrafficShardState,
  commands: readonly TrafficCommand[],
): TrafficCommandDecision[] => decideTrafficShardBatch(shard, commands).decisions;

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
