import { assert, AssertionError } from '../domain/assert';
import { TrafficUserTable } from '../domain/traffic/traffic-user-table';
import {
  initialTrafficUserState,
  trafficUserHashOf,
  type QuotaCrossing,
  type QuotaGranted,
  type QuotaReset,
  type TrafficUserState,
  type UserImported,
} from '../domain/traffic/traffic.model';

/** Where an event sits in the log: what a user's document records of the last event folded in. */
export type EventMark = { positionKey: string; position: string; updatedAt: string };

/**
 * A user as stored before the unit: its state, the position its document already includes, and
 * whether the stored document's indexed fields are those a document of this state has.
 */
type StoredUser = {
  state: TrafficUserState;
  positionKey: string | null;
  indexedFieldsCurrent: boolean;
};

/** A fold that does not hold: the log is not what the shards decided (a replayed bad stream). */
const refuse = (message: string): never => {
  throw new AssertionError(`traffic projection: ${message}`);
};

const checkedSum = (total: number, bytes: number, what: string): number => {
  const sum = total + bytes;
  if (!Number.isSafeInteger(sum)) refuse(`${what} overflows`);
  return sum;
};

const INITIAL_CAPACITY = 1024;

const grown = <Column extends Float64Array | Int32Array | Uint8Array>(
  column: Column,
  capacity: number,
  make: (length: number) => Column,
): Column => {
  const larger = make(capacity);
  larger.set(column);
  return larger;
};

/**
 * The users a read-side unit folds, one slot each, their state in columns: the byte counts in
 * typed arrays, so a report's thousand usages update numbers in place, with no object per user
 * or per record and nothing for the garbage collector to trace or promote; the fields that change
 * rarely (grants, level, group, expiry) in plain arrays. Each user's change follows the shard's own
 * evolve (the same checks): usage adds up, a crossing marks the user exceeded, a grant adds quota
 * (and a purchase's level, group and expiry), a reset starts a new period, an import replaces the
 * counts. Events at or below a user's stored position are already in its document: skipped.
 */
export const createTrafficUsers = () => {
  // The slots by user id and hash: a record's user is found from the hash its reader computed
  // while reading the id, the id compared only on an equal hash (no Map hashing a fresh string).
  const table = new TrafficUserTable(INITIAL_CAPACITY);
  /** Per slot (a slot is its table entry): the user id. */
  const userIds = table.ids;
  const storedKeys: (string | null)[] = [];
  const groups: string[] = [];
  const expiries: (string | null)[] = [];
  // Replaced, never changed in place, so a document built from a user may share them.
  const grantIdLists: (readonly string[])[] = [];
  const resetIdLists: (readonly string[])[] = [];
  const marks: EventMark[] = [];
  /** Slots made since the last takeUnloaded: their stored state is not read yet. */
  const unloaded: number[] = [];
  /**
   * The slots by user id, the first `sortedCount` of them (slots made since are merged in at the
   * next visit): users carried from unit to unit are not sorted again.
   */
  let byId = new Int32Array(0);
  let sortedCount = 0;
  /** Sorts the slots made since the last call and merges them into `byId`. */
  const sortNew = (): void => {
    if (sortedCount === userIds.length) return;
    // The built-in order (UTF-16 code units, as `<` compares) without a comparator call per pair.
    const freshIds = userIds.slice(sortedCount).sort();
    const merged = new Int32Array(userIds.length);
    let old = 0;
    let fresh = 0;
    for (let index = 0; index < merged.length; index += 1) {
      const oldSlot = old < sortedCount ? (byId[old] ?? -1) : -1;
      const freshId = freshIds[fresh];
      if (freshId === undefined || (oldSlot >= 0 && (userIds[oldSlot] ?? '') < freshId)) {
        merged[index] = oldSlot;
        old += 1;
      } else {
        merged[index] = table.find(freshId, trafficUserHashOf(freshId));
        fresh += 1;
      }
    }
    byId = merged;
    sortedCount = userIds.length;
  };
  let capacity = INITIAL_CAPACITY;
  let quotas = new Float64Array(capacity);
  let uploads = new Float64Array(capacity);
  let downloads = new Float64Array(capacity);
  let levels = new Float64Array(capacity);
  let exceededFlags = new Uint8Array(capacity);
  /**
   * 1 when the user's stored document may have other indexed fields (allowed, exceeded, level,
   * group) than its state gives: none stored, an older form, or a crossing, grant, reset or
   * import since. Usage alone keeps them, so its write may leave the indexes alone.
   */
  let indexedMoved = new Uint8Array(capacity);
  /** Index in `marks` of the last event folded into the user; -1: none (nothing to write). */
  let lastMarks = new Int32Array(capacity);

  const grow = (): void => {
    capacity *= 2;
    const float = (length: number) => new Float64Array(length);
    quotas = grown(quotas, capacity, float);
    uploads = grown(uploads, capacity, float);
    downloads = grown(downloads, capacity, float);
    levels = grown(levels, capacity, float);
    exceededFlags = grown(exceededFlags, capacity, (length) => new Uint8Array(length));
    indexedMoved = grown(indexedMoved, capacity, (length) => new Uint8Array(length));
    lastMarks = grown(lastMarks, capacity, (length) => new Int32Array(length));
  };

  /** True when the user's stored document already includes the event at positionKey. */
  const includes = (slot: number, positionKey: string): boolean => {
    const storedKey = storedKeys[slot];
    return storedKey !== null && storedKey !== undefined && storedKey >= positionKey;
  };

  /** Users an event changed since the last `settle`: the documents to write. */
  let changedCount = 0;
  const touched = (slot: number, mark: number): void => {
    if (lastMarks[slot] === -1) changedCount += 1;
    lastMarks[slot] = mark;
  };
  /** A change of what the indexed fields are made of: the next write rewrites the indexes. */
  const moved = (slot: number, mark: number): void => {
    indexedMoved[slot] = 1;
    touched(slot, mark);
  };

  /**
   * The user's slot, made on first sight: a new one holds the initial state until `load` fills it
   * with the stored one (`unloaded` lists them), so a record costs one probe of the table.
   * `userHash` is trafficUserHashOf(userId), which a report's reader computes as it reads.
   */
  const slotForHashed = (userId: string, userHash: number): number => {
    const known = table.find(userId, userHash);
    if (known >= 0) return known;
    const slot = table.add(userId, userHash);
    if (slot === capacity) grow();
    storedKeys.push(null);
    groups.push(initialTrafficUserState.group);
    expiries.push(null);
    grantIdLists.push(initialTrafficUserState.grantIds);
    resetIdLists.push(initialTrafficUserState.resetIds);
    lastMarks[slot] = -1;
    indexedMoved[slot] = 1;
    unloaded.push(slot);
    return slot;
  };

  return {
    slotForHashed,
    /** slotForHashed for an id whose hash is not at hand (grants, resets, crossings). */
    slotFor: (userId: string): number => slotForHashed(userId, trafficUserHashOf(userId)),
    /** The users made since the last call: their stored documents are to be read. */
    takeUnloaded: (): { slot: number; userId: string }[] =>
      unloaded.splice(0).map((slot) => ({ slot, userId: userIds[slot] ?? '' })),
    /** Fills a new slot with the user as stored, before any event is folded into it. */
    load: (slot: number, stored: StoredUser): void => {
      const { state } = stored;
      storedKeys[slot] = stored.positionKey;
      indexedMoved[slot] = stored.indexedFieldsCurrent ? 0 : 1;
      quotas[slot] = state.quotaBytes;
      uploads[slot] = state.uploadBytes;
      downloads[slot] = state.downloadBytes;
      levels[slot] = state.level;
      exceededFlags[slot] = state.exceeded ? 1 : 0;
      groups[slot] = state.group;
      expiries[slot] = state.expiresAt;
      grantIdLists[slot] = state.grantIds;
      resetIdLists[slot] = state.resetIds;
    },
    /** Records an event's place in the log once; the users it changes point at it. */
    mark: (mark: EventMark): number => marks.push(mark) - 1,
    includes,
    addUsage: (slot: number, uploadBytes: number, downloadBytes: number, mark: number): void => {
      const upload = checkedSum(uploads[slot] ?? 0, uploadBytes, 'upload');
      const download = checkedSum(downloads[slot] ?? 0, downloadBytes, 'download');
      checkedSum(upload, download, 'usage');
      uploads[slot] = upload;
      downloads[slot] = download;
      touched(slot, mark);
    },
    cross: (slot: number, crossing: QuotaCrossing, mark: number): void => {
      const usedBytes = (uploads[slot] ?? 0) + (downloads[slot] ?? 0);
      const quotaBytes = quotas[slot] ?? 0;
      if (exceededFlags[slot] === 1 || usedBytes <= quotaBytes)
        refuse(`${crossing.userId} not crossed`);
      if (crossing.usedBytes !== usedBytes || crossing.quotaBytes !== quotaBytes)
        refuse(`${crossing.userId}: totals differ from the stream`);
      exceededFlags[slot] = 1;
      moved(slot, mark);
    },
    grant: (slot: number, granted: QuotaGranted, mark: number): void => {
      const grantIds = grantIdLists[slot] ?? [];
      if (grantIds.includes(granted.grantId)) refuse(`${granted.grantId} granted twice`);
      const quotaBytes = checkedSum(quotas[slot] ?? 0, granted.quotaBytes, 'quota');
      const usedBytes = (uploads[slot] ?? 0) + (downloads[slot] ?? 0);
      quotas[slot] = quotaBytes;
      exceededFlags[slot] = exceededFlags[slot] === 1 && usedBytes > quotaBytes ? 1 : 0;
      grantIdLists[slot] = [...grantIds, granted.grantId];
      const { subscription } = granted;
      if (subscription !== undefined) {
        levels[slot] = subscription.level;
        groups[slot] = subscription.group;
        expiries[slot] = subscription.expiresAt;
      }
      moved(slot, mark);
    },
    reset: (slot: number, reset: QuotaReset, mark: number): void => {
      const resetIds = resetIdLists[slot] ?? [];
      if (resetIds.includes(reset.resetId)) refuse(`${reset.resetId} applied twice`);
      quotas[slot] = reset.quotaBytes;
      uploads[slot] = 0;
      downloads[slot] = 0;
      exceededFlags[slot] = 0;
      resetIdLists[slot] = [...resetIds, reset.resetId];
      moved(slot, mark);
    },
    /** The imported counts replace what the read side held; legacy streams knew no levels. */
    import: (slot: number, imported: UserImported, mark: number): void => {
      quotas[slot] = imported.quotaBytes;
      uploads[slot] = imported.uploadBytes;
      downloads[slot] = imported.downloadBytes;
      exceededFlags[slot] = imported.exceeded ? 1 : 0;
      grantIdLists[slot] = [...imported.grantIds];
      resetIdLists[slot] = [...imported.resetIds];
      moved(slot, mark);
    },
    /** Users held, changed or not. */
    size: (): number => userIds.length,
    /** Users changed since the last `settle`. */
    changedCount: (): number => changedCount,
    /**
     * After the changed users' documents were committed: every user is as stored, at the position
     * of the last event folded in, and the next unit folds on from here without reading them.
     */
    settle: (): void => {
      // Each changed user was written as its state gives: its indexed fields are current. A user
      // held unchanged keeps what it was stored with.
      for (let slot = 0; slot < userIds.length; slot += 1)
        if ((lastMarks[slot] ?? -1) >= 0) indexedMoved[slot] = 0;
      lastMarks.fill(-1);
      marks.length = 0;
      changedCount = 0;
    },
    /**
     * Visits each user an event changed, by user id, with its state, the last event folded in and
     * whether its indexed fields are as stored. The state is one object refilled for each user
     * (no object per user for the collector to trace): read it, don't keep it.
     */
    forEachChanged: (
      visit: (userId: string, state: TrafficUserState, last: EventMark, kept: boolean) => void,
    ): void => {
      sortNew();
      const state: { -readonly [Field in keyof TrafficUserState]: TrafficUserState[Field] } = {
        ...initialTrafficUserState,
      };
      for (const slot of byId) {
        if ((lastMarks[slot] ?? -1) < 0) continue;
        const userId = userIds[slot] ?? '';
        state.quotaBytes = quotas[slot] ?? 0;
        state.uploadBytes = uploads[slot] ?? 0;
        state.downloadBytes = downloads[slot] ?? 0;
        state.exceeded = exceededFlags[slot] === 1;
        state.grantIds = grantIdLists[slot] ?? [];
        state.resetIds = resetIdLists[slot] ?? [];
        state.level = levels[slot] ?? 0;
        state.group = groups[slot] ?? initialTrafficUserState.group;
        state.expiresAt = expiries[slot] ?? null;
        const last = marks[lastMarks[slot] ?? -1];
        assert(last !== undefined, 'traffic users: a changed user has its last event');
        visit(userId, state, last, indexedMoved[slot] === 0);
      }
    },
  };
};

export type TrafficUsers = ReturnType<typeof createTrafficUsers>;
