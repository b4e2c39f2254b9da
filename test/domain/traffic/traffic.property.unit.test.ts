import fc from 'fast-check';
import { AssertionError } from '../../../domain/assert';
import type { JsonValue } from '../../../domain/ports/event-store.port';
import {
  recentReportCountMax,
  TRAFFIC_SHARD_COUNT,
  trafficAggregate,
  trafficRejections,
  trafficShardOf,
  type TrafficCommand,
  type TrafficDecision,
  type TrafficEvent,
  type TrafficShardState,
  type UsageRecord,
} from '../../../domain/traffic/traffic.decider';
import { trafficSnapshotCodec } from '../../../domain/traffic/traffic.snapshot';
import {
  grant,
  granted,
  overflowed,
  report,
  reported,
  reset,
  stateOf,
  use,
} from './traffic.fixtures';

const max = Number.MAX_SAFE_INTEGER;
const users = ['alice', 'bob', 'carol', 'dave'] as const;

// Mostly small counts, so quotas are crossed; sometimes a quarter of the safe range or more, so
// totals overflow after a few reports and quotas after a few grants.
const bytes = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 60 }), weight: 6 },
  { arbitrary: fc.integer({ min: Math.floor(max / 4), max: Math.floor(max / 2) }), weight: 1 },
);
const quotaBytes = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 100 }), weight: 4 },
  { arbitrary: fc.integer({ min: Math.floor(max / 4), max }), weight: 1 },
);
const record: fc.Arbitrary<UsageRecord> = fc
  .tuple(fc.constantFrom(...users), bytes, bytes)
  // The API drops records of 0 + 0 bytes before they reach the shard.
  .map(([userId, upload, download]) => use(userId, upload + download === 0 ? 1 : upload, download));
// Few ids, so retries, repeated grants and repeated resets all happen.
const command: fc.Arbitrary<TrafficCommand> = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        fc.integer({ min: 0, max: 40 }),
        // At most one record per user: the API merges a user's records of one report.
        fc.uniqueArray(record, {
          selector: (usage) => usage.userId,
          minLength: 1,
          maxLength: users.length,
        }),
      )
      .map(([index, usages]) => report(`r-${index}`, usages)),
    weight: 12,
  },
  {
    arbitrary: fc.integer({ min: 0, max: 40 }).map((index) => report(`r-${index}`, [])),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...users), fc.integer({ min: 0, max: 5 }), quotaBytes)
      .map(([userId, index, bytesGranted]) => grant(userId, `g-${index}`, bytesGranted)),
    weight: 2,
  },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom(...users),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 100 }),
      )
      .map(([userId, index, bytesReset]) => reset(userId, `p-${index}`, bytesReset)),
    weight: 2,
  },
);
const commands = fc.array(command, { maxLength: 200, size: 'medium' });

type Step = {
  command: TrafficCommand;
  before: TrafficShardState;
  decision: TrafficDecision;
  after: TrafficShardState;
};

/** Decides and applies each command in turn, as the command handler does. */
const run = (sequence: readonly TrafficCommand[]): Step[] => {
  let state = trafficAggregate.initialState;
  return sequence.map((next) => {
    const before = state;
    const decision = trafficAggregate.decide(next, before);
    if (decision.ok) state = decision.events.reduce(trafficAggregate.evolve, before);
    return { command: next, before, decision, after: state };
  });
};

const eventsOf = (steps: readonly Step[]): TrafficEvent[] =>
  steps.flatMap((step) => (step.decision.ok ? [...step.decision.events] : []));

const { encode, decode } = trafficSnapshotCodec;
/** Through JSON text, as a snapshot store keeps it. */
const roundTrip = (state: TrafficShardState): TrafficShardState =>
  decode(JSON.parse(JSON.stringify(encode(state))) as JsonValue);

describe('traffic shard properties', () => {
  it('loses no update: each total is the sum of its counted usages since the last reset', () => {
    fc.assert(
      fc.property(commands, (sequence) => {
        const steps = run(sequence);
        const seen = new Set<string>();
        for (const { command: next, before, decision } of steps) {
          if (!decision.ok) {
            expect(trafficRejections).toContain(decision.rejection);
            if (next.type === 'RecordUsage') expect(next.data.usages).toHaveLength(0);
            if (next.type === 'GrantQuota') {
              const quota = before.users.get(next.data.userId)?.quotaBytes ?? 0;
              expect(Number.isSafeInteger(quota + next.data.quotaBytes)).toBe(false);
            }
            continue;
          }
          if (next.type !== 'RecordUsage') continue;
          const { reportId, usages } = next.data;
          const isRetry = seen.has(reportId);
          seen.add(reportId);
          expect(before.recentReports.has(reportId)).toBe(isRetry);
          if (isRetry) {
            expect(decision.events).toEqual([]);
            continue;
          }
          // Every record of a new report is counted or refused, once, in the report's order.
          const [first] = decision.events;
          expect(first?.type).toBe('UsageReported');
          if (first?.type !== 'UsageReported') continue;
          const counted = new Set(first.data.usages.map((usage) => usage.userId));
          const refused = new Set(first.data.refused.map((usage) => usage.userId));
          expect(first.data.usages).toEqual(usages.filter((usage) => !refused.has(usage.userId)));
          expect(counted.size + refused.size).toBe(usages.length);
          // Refused exactly when a total would leave the safe range.
          for (const usage of usages) {
            const user = before.users.get(usage.userId);
            const upload = (user?.uploadBytes ?? 0) + usage.uploadBytes;
            const download = (user?.downloadBytes ?? 0) + usage.downloadBytes;
            const overflows = !Number.isSafeInteger(upload + download);
            expect(refused.has(usage.userId)).toBe(overflows);
          }
        }
        const final = steps.at(-1)?.after ?? trafficAggregate.initialState;
        const sums = new Map<string, { uploadBytes: number; downloadBytes: number }>();
        for (const event of eventsOf(steps)) {
          if (event.type === 'QuotaReset') {
            sums.set(event.data.userId, { uploadBytes: 0, downloadBytes: 0 });
          }
          if (event.type !== 'UsageReported') continue;
          for (const { userId, uploadBytes, downloadBytes } of event.data.usages) {
            const sum = sums.get(userId) ?? { uploadBytes: 0, downloadBytes: 0 };
            sums.set(userId, {
              uploadBytes: sum.uploadBytes + uploadBytes,
              downloadBytes: sum.downloadBytes + downloadBytes,
            });
          }
        }
        for (const userId of users) {
          const user = final.users.get(userId);
          const sum = sums.get(userId) ?? { uploadBytes: 0, downloadBytes: 0 };
          expect({
            uploadBytes: user?.uploadBytes ?? 0,
            downloadBytes: user?.downloadBytes ?? 0,
          }).toEqual(sum);
          expect(Number.isSafeInteger((user?.uploadBytes ?? 0) + (user?.downloadBytes ?? 0))).toBe(
            true,
          );
        }
        expect(final.recentReports.size).toBeLessThanOrEqual(recentReportCountMax);
      }),
      { numRuns: 150 },
    );
  });

  it('keeps exceeded equal to usedBytes > quotaBytes and announces each crossing once', () => {
    fc.assert(
      fc.property(commands, (sequence) => {
        const announced = new Set<string>();
        for (const { before, decision, after } of run(sequence)) {
          const events = decision.ok ? decision.events : [];
          const crossings = events.filter((event) => event.type === 'QuotasExceeded');
          expect(crossings.length).toBeLessThanOrEqual(1);
          const listed = crossings.flatMap((event) =>
            event.type === 'QuotasExceeded' ? event.data.users : [],
          );
          const [reportedEvent] = events;
          for (const event of crossings) {
            // Announced with the report that crossed, right after it.
            expect(events.indexOf(event)).toBe(1);
            expect(reportedEvent?.type).toBe('UsageReported');
            if (reportedEvent?.type === 'UsageReported' && event.type === 'QuotasExceeded') {
              expect(event.data.reportId).toBe(reportedEvent.data.reportId);
            }
          }
          expect(new Set(listed.map((entry) => entry.userId)).size).toBe(listed.length);
          for (const entry of listed) {
            const was = before.users.get(entry.userId);
            const now = after.users.get(entry.userId);
            expect(was?.exceeded ?? false).toBe(false);
            expect(announced.has(entry.userId)).toBe(false);
            announced.add(entry.userId);
            expect(entry).toEqual({
              userId: entry.userId,
              usedBytes: (now?.uploadBytes ?? 0) + (now?.downloadBytes ?? 0),
              quotaBytes: now?.quotaBytes,
            });
            expect(entry.usedBytes).toBeGreaterThan(entry.quotaBytes);
          }
          for (const [userId, user] of after.users) {
            expect(user.exceeded).toBe(user.uploadBytes + user.downloadBytes > user.quotaBytes);
            // Every user that became exceeded in this step was listed.
            const wasExceeded = before.users.get(userId)?.exceeded ?? false;
            if (user.exceeded && !wasExceeded) {
              expect(listed.map((entry) => entry.userId)).toContain(userId);
            }
            if (!user.exceeded) announced.delete(userId);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('decodes every reachable shard state to itself, which then decides the same', () => {
    fc.assert(
      fc.property(commands, command, (sequence, next) => {
        const states = [trafficAggregate.initialState, ...run(sequence).map((step) => step.after)];
        for (const state of states) {
          const encoded = encode(state);
          // Plain JSON: nothing lost or changed on the way through text.
          expect(JSON.parse(JSON.stringify(encoded))).toEqual(encoded);
          const decoded = roundTrip(state);
          expect(decoded.users).toBeInstanceOf(Map);
          expect(decoded.recentReports).toBeInstanceOf(Map);
          expect(Object.fromEntries(decoded.users)).toEqual(Object.fromEntries(state.users));
          expect(decoded.users.size).toBe(state.users.size);
          // Oldest first: the order decides which report is forgotten next.
          expect([...decoded.recentReports.entries()]).toEqual([...state.recentReports.entries()]);
        }
        const last = states.at(-1) ?? trafficAggregate.initialState;
        expect(trafficAggregate.decide(next, roundTrip(last))).toEqual(
          trafficAggregate.decide(next, last),
        );
      }),
      { numRuns: 60 },
    );
  });
});

describe('traffic snapshot codec', () => {
  it('keeps a full window of recent reports in order, so the same report is forgotten next', () => {
    const history = Array.from({ length: recentReportCountMax + 3 }, (_, index) =>
      reported(`r-${index}`, [use('alice', 1)]),
    );
    const state = stateOf(history);
    const decoded = roundTrip(state);
    expect(decoded.recentReports.size).toBe(recentReportCountMax);
    const next = reported('r-next', [use('alice', 1)]);
    const fromSnapshot = trafficAggregate.evolve(decoded, next);
    const fromStream = trafficAggregate.evolve(state, next);
    expect([...fromSnapshot.recentReports.keys()][0]).toBe('r-4');
    expect([...fromSnapshot.recentReports.keys()]).toEqual([...fromStream.recentReports.keys()]);
    expect(fromSnapshot.users.get('alice')?.uploadBytes).toBe(recentReportCountMax + 4);
  });

  const sample = () =>
    stateOf([
      granted('alice', 'g-1', max),
      reported('r-1', [use('alice', max - 1)]),
      reported('r-2', [use('bob', 1, 2)], [overflowed('alice')]),
    ]);
  /** Version 3 as the writer saved it until version 4 (snapshots on disk are still read). */
  const encodeVersion3 = (state: TrafficShardState): JsonValue =>
    JSON.parse(
      JSON.stringify({
        users: [...state.users.entries()]
          .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
          .map(([userId, user]) => ({ userId, ...user })),
        recentReports: [...state.recentReports.entries()].map(([reportId, refused]) => ({
          reportId,
          refused,
        })),
      }),
    ) as JsonValue;
  const valid = (): Record<string, JsonValue> =>
    encodeVersion3(sample()) as Record<string, JsonValue>;
  const validVersion4 = (): Record<string, JsonValue> =>
    JSON.parse(JSON.stringify(encode(sample()))) as Record<string, JsonValue>;

  it('reads a version 3 snapshot as the state it was saved from', () => {
    fc.assert(
      fc.property(commands, (sequence) => {
        const state = run(sequence).at(-1)?.after ?? trafficAggregate.initialState;
        const decoded = decode(encodeVersion3(state), 3);
        expect(Object.fromEntries(decoded.users)).toEqual(Object.fromEntries(state.users));
        expect([...decoded.recentReports.entries()]).toEqual([...state.recentReports.entries()]);
        expect(encode(decoded)).toEqual(encode(state));
      }),
      { numRuns: 60 },
    );
    expect(trafficSnapshotCodec.olderVersionsRead).toEqual([3]);
  });
  /** The valid snapshot with its first user, or first recent report, changed. */
  const damageUser = (change: (user: Record<string, JsonValue>) => JsonValue) => {
    const saved = valid();
    const [first, ...rest] = saved['users'] as Record<string, JsonValue>[];
    return { ...saved, users: [change(first ?? {}), ...rest] };
  };
  const damageReport = (change: (report: Record<string, JsonValue>) => JsonValue) => {
    const saved = valid();
    const reports = saved['recentReports'] as Record<string, JsonValue>[];
    return { ...saved, recentReports: reports.map((entry) => change(entry)) };
  };
  const without = (object: Record<string, JsonValue>, name: string) =>
    Object.fromEntries(Object.entries(object).filter(([key]) => key !== name));

  it('encodes one set of users the same, whatever the order they arrived in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 40 }),
        (userIds) => {
          const arrivals = (ids: readonly string[]) =>
            stateOf([
              reported(
                'r-1',
                ids.map((userId) => use(userId, 1)),
              ),
            ]);
          const forwards = trafficSnapshotCodec.encode(arrivals(userIds));
          const backwards = trafficSnapshotCodec.encode(arrivals([...userIds].reverse()));
          expect(JSON.stringify(backwards)).toBe(JSON.stringify(forwards));
        },
      ),
    );
  });

  it('decodes the undamaged snapshots the cases below start from', () => {
    expect(decode(validVersion4())).toEqual(decode(valid(), 3));
    const decoded = decode(valid(), 3);
    expect(decoded.users.get('alice')).toMatchObject({ quotaBytes: max, uploadBytes: max - 1 });
    expect(decoded.recentReports.get('r-2')).toEqual([overflowed('alice')]);
  });

  it.each<[string, JsonValue, string]>([
    ['not an object', [1, 2], 'traffic shard snapshot: not an object'],
    ['users that are not an array', { ...valid(), users: {} }, 'users: not an array'],
    ['a user that is not an object', damageUser(() => 'alice'), 'users[]: not an object'],
    ['a missing userId', damageUser((user) => without(user, 'userId')), 'userId'],
    ['a negative uploadBytes', damageUser((user) => ({ ...user, uploadBytes: -1 })), 'uploadBytes'],
    [
      'a downloadBytes past the safe range',
      damageUser((user) => ({ ...user, downloadBytes: max + 1 })),
      'downloadBytes',
    ],
    ['a fractional quotaBytes', damageUser((user) => ({ ...user, quotaBytes: 0.5 })), 'quotaBytes'],
    [
      'exceeded that is not a boolean',
      damageUser((user) => ({ ...user, exceeded: 'yes' })),
      'exceeded',
    ],
    ['a grant id that is not text', damageUser((user) => ({ ...user, grantIds: [7] })), 'grantIds'],
    ['missing resetIds', damageUser((user) => without(user, 'resetIds')), 'resetIds'],
    ['missing recentReports', without(valid(), 'recentReports'), 'recentReports'],
    ['a report without reportId', damageReport((entry) => without(entry, 'reportId')), 'reportId'],
    [
      'a refused usage of an unknown reason',
      damageReport((entry) => ({ ...entry, refused: [{ userId: 'alice', reason: 'other' }] })),
      'reason',
    ],
    [
      'a refused usage without userId',
      damageReport((entry) => ({ ...entry, refused: [{ reason: 'usage_overflow' }] })),
      'userId',
    ],
  ])('refuses %s in version 3, naming the field', (_name, saved, message) => {
    const decoding = () => decode(JSON.parse(JSON.stringify(saved)) as JsonValue, 3);
    expect(decoding).toThrow(AssertionError);
    expect(decoding).toThrow(message);
  });

  const damaged = (name: string, value: JsonValue) => ({ ...validVersion4(), [name]: value });
  it.each<[string, JsonValue, string]>([
    ['not an object', [1, 2], 'traffic shard snapshot: not an object'],
    ['userIds that are not strings', damaged('userIds', [1, 2]), 'userIds'],
    ['a column shorter than userIds', damaged('uploadBytes', [1]), 'uploadBytes: 1 values for 2'],
    ['a negative count', damaged('downloadBytes', [0, -1]), 'downloadBytes: not a safe integer'],
    ['a fractional quota', damaged('quotaBytes', [0.5, 0]), 'quotaBytes: not a safe integer'],
    ['an exceeded index past the users', damaged('exceeded', [2]), 'exceeded[]: not an index'],
    ['a short row of others', damaged('others', [[0, [], []]]), 'others[]: not a row of 6'],
    [
      'a grant id that is not text',
      damaged('others', [[0, [7], [], 0, 'default', null]]),
      'others[][1]: not an array of strings',
    ],
    ['missing reportIds', damaged('reportIds', null), 'reportIds: not an array'],
    ['a refusal of no report', damaged('refused', [[5, 'alice']]), 'refused[][0]: not an index'],
    ['a refusal without userId', damaged('refused', [[0, 3]]), 'refused[][1]: not a string'],
  ])('refuses %s in version 4, naming the field', (_name, saved, message) => {
    const decoding = () => decode(JSON.parse(JSON.stringify(saved)) as JsonValue);
    expect(decoding).toThrow(AssertionError);
    expect(decoding).toThrow(message);
  });
});

describe('trafficShardOf', () => {
  it('gives every user id, always the same, one of the two-digit shards 00..15', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (userId) => {
        const shard = trafficShardOf(userId);
        expect(shard).toMatch(/^\d\d$/);
        expect(Number(shard)).toBeLessThan(TRAFFIC_SHARD_COUNT);
        // The same id rebuilt from its code units, after other ids: the same shard.
        trafficShardOf(`${userId}x`);
        const rebuilt = String.fromCharCode(
          ...Array.from({ length: userId.length }, (_, index) => userId.charCodeAt(index)),
        );
        expect(trafficShardOf(rebuilt)).toBe(shard);
      }),
      { numRuns: 1_000 },
    );
    expect(TRAFFIC_SHARD_COUNT).toBe(16);
  });

  const spread = (ids: readonly string[]): number[] => {
    const counts = Array.from({ length: TRAFFIC_SHARD_COUNT }, () => 0);
    for (const id of ids) {
      const shard = Number(trafficShardOf(id));
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    return counts;
  };

  it.each<[string, string[]]>([
    ['sequential ids', Array.from({ length: 10_000 }, (_, index) => `user-${index}`)],
    ['uuids', fc.sample(fc.uuid(), { numRuns: 10_000, seed: 42 })],
    ['e-mail addresses', fc.sample(fc.emailAddress(), { numRuns: 10_000, seed: 7 })],
  ])('spreads 10,000 %s over all 16 shards', (_name, ids) => {
    expect(ids).toHaveLength(10_000);
    const counts = spread(ids);
    expect(counts).toHaveLength(TRAFFIC_SHARD_COUNT);
    for (const count of counts) {
      expect(count).toBeGreaterThanOrEqual(400);
      expect(count).toBeLessThanOrEqual(850);
    }
  });

  it('depends on every bit of a character, not only its low bits', () => {
    // 'user-a' and 'user-q' differ in one bit of one character; a shard taken from the raw FNV
    // hash's low bits would put every such pair together.
    const pairs = Array.from({ length: 1_000 }, (_, index) => [`${index}-a`, `${index}-q`]);
    const apart = pairs.filter(
      ([left = '', right = '']) => trafficShardOf(left) !== trafficShardOf(right),
    );
    expect(apart.length).toBeGreaterThan(850); // 15/16 of 1,000 is 937 on average.
  });
});
