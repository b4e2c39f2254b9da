import { AssertionError } from '../../domain/assert';
import { createTrafficUsers, type TrafficUsers } from '../../projections/traffic-users';
import { initialTrafficUserState, trafficUserHashOf } from '../../domain/traffic/traffic.model';

/** Each changed user as the fold visits them, the state copied (the visit refills one object). */
const changedOf = (users: TrafficUsers) => {
  const changed: unknown[] = [];
  users.forEachChanged((userId, state, last, indexedFieldsKept) =>
    changed.push({ userId, state: { ...state }, last, indexedFieldsKept }),
  );
  return changed as {
    userId: string;
    state: Record<string, unknown>;
    last: unknown;
    indexedFieldsKept: boolean;
  }[];
};

const mark = (position: number) => ({
  positionKey: String(position).padStart(20, '0'),
  position: String(position),
  updatedAt: '2026-12-06T00:00:00.000Z',
});

const imported = {
  userId: 'u-1',
  quotaBytes: 1_000,
  uploadBytes: 300,
  downloadBytes: 200,
  exceeded: false,
  grantIds: ['g-0'],
  resetIds: [],
  sourceStream: 'traffic-u-1',
  sourceRevision: 3,
  importedAt: '2026-12-06T00:00:00.000Z',
};

describe('the traffic read side columnar fold', () => {
  it('folds imports, usage, crossings, grants and resets as the shard does, users by id', () => {
    const users = createTrafficUsers();
    const second = users.slotFor('u-2');
    const first = users.slotFor('u-1');
    expect(users.slotFor('u-1')).toBe(first);
    expect(users.takeUnloaded().map(({ userId }) => userId)).toEqual(['u-2', 'u-1']);
    expect(users.takeUnloaded()).toEqual([]);
    users.import(first, imported, users.mark(mark(1)));
    users.addUsage(first, 400, 150, users.mark(mark(2)));
    users.cross(first, { userId: 'u-1', usedBytes: 1_050, quotaBytes: 1_000 }, users.mark(mark(3)));
    expect(() =>
      users.cross(first, { userId: 'u-1', usedBytes: 1_050, quotaBytes: 1_000 }, 3),
    ).toThrow(/not crossed/);
    const grant = { userId: 'u-1', grantId: 'g-1', quotaBytes: 500, reason: 'plan' };
    const subscription = {
      purchaseId: 'p-1',
      planId: 'plan-1',
      level: 2,
      group: 'gold',
      amountMinor: 100,
      currency: 'CNY',
      expiresAt: '2027-01-01T00:00:00.000Z',
    };
    users.grant(first, { ...grant, grantedAt: 'x', subscription }, users.mark(mark(4)));
    expect(() => users.grant(first, { ...grant, grantedAt: 'x' }, 4)).toThrow(/granted twice/);
    users.addUsage(second, 1, 2, users.mark(mark(5)));
    expect(users.changedCount()).toBe(2);
    expect(changedOf(users)).toEqual([
      {
        userId: 'u-1',
        state: {
          quotaBytes: 1_500,
          uploadBytes: 700,
          downloadBytes: 350,
          exceeded: false,
          grantIds: ['g-0', 'g-1'],
          resetIds: [],
          level: 2,
          group: 'gold',
          expiresAt: '2027-01-01T00:00:00.000Z',
        },
        last: mark(4),
        indexedFieldsKept: false,
      },
      {
        userId: 'u-2',
        state: expect.objectContaining({ uploadBytes: 1, downloadBytes: 2, exceeded: false }),
        last: mark(5),
        indexedFieldsKept: false,
      },
    ]);
    users.settle();
    expect(changedOf(users)).toEqual([]);
    const reset = { userId: 'u-1', resetId: 'r-1', quotaBytes: 10, resetAt: 'x' };
    users.reset(first, reset, users.mark(mark(6)));
    expect(changedOf(users)[0]?.state).toMatchObject({
      quotaBytes: 10,
      uploadBytes: 0,
      downloadBytes: 0,
      resetIds: ['r-1'],
    });
    expect(() => users.reset(first, reset, 0)).toThrow(/applied twice/);
  });

  it('refuses usage past the safe-integer range and skips what a stored document includes', () => {
    const users = createTrafficUsers();
    const slot = users.slotFor('u-1');
    users.load(slot, {
      state: { ...initialTrafficUserState, uploadBytes: Number.MAX_SAFE_INTEGER - 1 },
      positionKey: mark(7).positionKey,
      indexedFieldsCurrent: true,
    });
    expect(users.includes(slot, mark(7).positionKey)).toBe(true);
    expect(users.includes(slot, mark(8).positionKey)).toBe(false);
    expect(() => users.addUsage(slot, 5, 0, 0)).toThrow(AssertionError);
    expect(() => users.addUsage(slot, 0, 5, 0)).toThrow(/usage overflows/);
  });

  it('lets a usage-only write keep the indexes, and no other', () => {
    const users = createTrafficUsers();
    const state = { ...initialTrafficUserState, quotaBytes: 1_000 };
    const [current, older, fresh] = ['u-1', 'u-2', 'u-3'].map((userId) => users.slotFor(userId));
    users.load(current ?? -1, { state, positionKey: null, indexedFieldsCurrent: true });
    users.load(older ?? -1, { state, positionKey: null, indexedFieldsCurrent: false });
    for (const slot of [current, older, fresh])
      users.addUsage(slot ?? -1, 10, 10, users.mark(mark(1)));
    const keptOf = () =>
      Object.fromEntries(changedOf(users).map((user) => [user.userId, user.indexedFieldsKept]));
    // A stored document of an older form, or none, is written whole.
    expect(keptOf()).toEqual({ 'u-1': true, 'u-2': false, 'u-3': false });
    users.settle();
    for (const slot of [current, older, fresh])
      users.addUsage(slot ?? -1, 10, 10, users.mark(mark(2)));
    expect(keptOf()).toEqual({ 'u-1': true, 'u-2': true, 'u-3': true });
    users.settle();
    users.addUsage(current ?? -1, 990, 0, users.mark(mark(3)));
    users.cross(
      current ?? -1,
      { userId: 'u-1', usedBytes: 1_030, quotaBytes: 1_000 },
      users.mark(mark(4)),
    );
    const grant = { userId: 'u-2', grantId: 'g-1', quotaBytes: 5, reason: 'plan', grantedAt: 'x' };
    users.grant(older ?? -1, grant, users.mark(mark(5)));
    const reset = { userId: 'u-3', resetId: 'r-1', quotaBytes: 10, resetAt: 'x' };
    users.reset(fresh ?? -1, reset, users.mark(mark(6)));
    expect(keptOf()).toEqual({ 'u-1': false, 'u-2': false, 'u-3': false });
  });

  it('visits changed users by id across units, users made later merged in', () => {
    const users = createTrafficUsers();
    const rounds = [
      ['u-5', 'u-1', 'u-9'],
      ['u-3', 'u-0', 'u-99', 'u-6'],
      ['u-2', 'u-7'],
    ];
    const seen: string[] = [];
    rounds.forEach((round, index) => {
      users.settle();
      const mark = users.mark({ positionKey: `${index}`, position: `${index}`, updatedAt: 'x' });
      // Each round changes its new users and one user made before it.
      for (const userId of [...round, 'u-5']) users.addUsage(users.slotFor(userId), 1, 1, mark);
      seen.push(...round);
      const visited = changedOf(users).map(({ userId }) => userId);
      expect(visited).toEqual([...new Set([...round, 'u-5'])].sort());
    });
    users.settle();
    for (const userId of seen) users.addUsage(users.slotFor(userId), 1, 1, users.mark(mark(9)));
    expect(changedOf(users).map(({ userId }) => userId)).toEqual([...seen].sort());
  });

  it('grows past its first capacity', () => {
    const users = createTrafficUsers();
    for (let index = 0; index < 5_000; index += 1)
      users.addUsage(users.slotFor(`u-${index}`), index, 1, users.mark(mark(index + 1)));
    const changed = changedOf(users);
    expect(changed).toHaveLength(5_000);
    expect(changed.find(({ userId }) => userId === 'u-4321')?.state.uploadBytes).toBe(4_321);
  });

  it('tells apart users whose ids hash alike, across the table growing', () => {
    // Two ids of one hash (found by search): the table compares the ids on an equal hash.
    const [one, other] = ['u-145233', 'u-1988000'];
    expect(trafficUserHashOf(one)).toBe(trafficUserHashOf(other));
    const users = createTrafficUsers();
    const oneSlot = users.slotForHashed(one, trafficUserHashOf(one));
    const otherSlot = users.slotFor(other);
    expect(otherSlot).not.toBe(oneSlot);
    users.addUsage(oneSlot, 7, 0, users.mark(mark(1)));
    users.addUsage(otherSlot, 0, 9, users.mark(mark(2)));
    for (let index = 0; index < 3_000; index += 1) users.slotFor(`v-${index}`);
    expect(users.slotFor(one)).toBe(oneSlot);
    expect(users.slotForHashed(other, trafficUserHashOf(other))).toBe(otherSlot);
    const changed = changedOf(users).map(({ userId, state }) => [userId, state.uploadBytes]);
    expect(changed).toEqual([
      [one, 7],
      [other, 0],
    ]);
  });
});
