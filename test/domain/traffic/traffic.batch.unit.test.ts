import fc from 'fast-check';
import {
  applyTrafficEvent,
  decideTrafficShard,
  decideTrafficShardBatch,
  newTrafficShardState,
  type TrafficShardState,
} from '../../../domain/traffic/traffic.decider';
import { trafficSnapshotCodec } from '../../../domain/traffic/traffic.snapshot';
import { trafficUserHashOf } from '../../../domain/traffic/traffic.model';
import { grant, now, reset, use } from './traffic.fixtures';

const report = (reportId: string, usages: ReturnType<typeof use>[]) => ({
  type: 'RecordUsage' as const,
  data: { reportId, nodeId: 'node-1', usages, now },
});

/** A shard with alice's quota of 100 bytes, folded as the writer folds it. */
const shardWithAlice = (): TrafficShardState => {
  const shard = newTrafficShardState();
  const [granted] = decideTrafficShard(shard, [grant('alice', 'g-1', 100)]);
  if (granted?.ok !== true) throw new Error('grant refused');
  for (const event of granted.events) applyTrafficEvent(shard, event);
  return shard;
};

describe('decideTrafficShard: a batch of commands on one shard', () => {
  it('lets each report see the ones decided before it: exact sums, one crossing', () => {
    const shard = shardWithAlice();
    const decided = decideTrafficShard(shard, [
      report('r-1', [use('alice', 60)]),
      report('r-2', [use('alice', 60)]),
      report('r-3', [use('alice', 60)]),
    ]);
    const types = decided.map((d) => (d.ok ? d.events.map((e) => e.type) : d.rejection));
    expect(types).toEqual([
      ['UsageReported'],
      ['UsageReported', 'QuotasExceeded'],
      ['UsageReported'],
    ]);
    const [, second, third] = decided;
    expect(second?.ok === true && second.events[1]?.data).toMatchObject({
      users: [{ userId: 'alice', usedBytes: 120, quotaBytes: 100 }],
    });
    expect(third?.ok === true && third.answer).toEqual({
      kind: 'usage',
      refused: [],
      exceededUserIds: ['alice'],
    });
  });

  it('reads the shard and writes nothing of it', () => {
    const shard = shardWithAlice();
    const before = trafficSnapshotCodec.encode(shard);
    decideTrafficShard(shard, [
      report('r-1', [use('alice', 60), use('bob', 5)]),
      report('r-2', [use('alice', 60)]),
      grant('carol', 'g-2', 10),
    ]);
    expect(trafficSnapshotCodec.encode(shard)).toEqual(before);
    expect(shard.users.has('bob')).toBe(false);
    expect(shard.recentReports.size).toBe(0);
  });

  it('treats a report repeated within the batch as a retry', () => {
    const shard = shardWithAlice();
    const decided = decideTrafficShard(shard, [
      report('r-1', [use('alice', 10)]),
      report('r-1', [use('alice', 10)]),
    ]);
    expect(decided.map((d) => d.ok && d.events.length)).toEqual([1, 0]);
  });

  it('answers a grant with the user as the grant left it, after the batch before it', () => {
    const shard = shardWithAlice();
    const [, granted] = decideTrafficShard(shard, [
      report('r-1', [use('alice', 150)]),
      grant('alice', 'g-2', 100),
    ]);
    expect(granted?.ok === true && granted.answer).toMatchObject({
      kind: 'user',
      user: { quotaBytes: 200, uploadBytes: 150, exceeded: false },
    });
  });

  it('lets reports and grants interleave: each sees the totals and quota left before it', () => {
    const shard = shardWithAlice();
    const commands = [
      report('r-1', [use('alice', 60), use('bob', 5)]),
      grant('alice', 'g-2', 50), // quota 150, used 60
      report('r-2', [use('alice', 80)]), // used 140: within
      report('r-3', [use('alice', 20), use('bob', 1)]), // used 160: crosses once
      grant('alice', 'g-3', 100), // quota 250: back within
      report('r-4', [use('alice', 100)]), // used 260: crosses again
    ];
    const decided = decideTrafficShard(shard, commands);
    const crossings = decided.map((d) =>
      d.ok ? d.events.filter((e) => e.type === 'QuotasExceeded').map((e) => e.data) : null,
    );
    expect(crossings).toEqual([
      [
        {
          reportId: 'r-1',
          users: [{ userId: 'bob', usedBytes: 5, quotaBytes: 0 }],
          exceededAt: now,
        },
      ],
      [],
      [],
      [
        {
          reportId: 'r-3',
          users: [{ userId: 'alice', usedBytes: 160, quotaBytes: 150 }],
          exceededAt: now,
        },
      ],
      [],
      [
        {
          reportId: 'r-4',
          users: [{ userId: 'alice', usedBytes: 260, quotaBytes: 250 }],
          exceededAt: now,
        },
      ],
    ]);
    // The writer's fold of the same events agrees with what the batch saw, asserts included.
    for (const d of decided)
      if (d.ok) for (const event of d.events) applyTrafficEvent(shard, event);
    expect(shard.users.get('alice')).toMatchObject({
      uploadBytes: 260,
      quotaBytes: 250,
      exceeded: true,
    });
    expect(shard.users.get('bob')).toMatchObject({ uploadBytes: 6, exceeded: true });
  });

  it('keeps two users whose ids hash alike apart, across batches and a grant between reports', () => {
    const [one, other] = ['u-145233', 'u-1988000'];
    expect(trafficUserHashOf(one)).toBe(trafficUserHashOf(other));
    const shard = newTrafficShardState();
    const first = decideTrafficShardBatch(shard, [report('r-1', [use(one, 5), use(other, 7)])]);
    first.commit(shard);
    const second = decideTrafficShardBatch(shard, [
      report('r-2', [use(other, 50), use(one, 1)]),
      grant(other, 'g-1', 100), // Its copy of the user takes over the report's slot.
      report('r-3', [use(other, 50)]),
    ]);
    const crossed = second.decisions.map((d) =>
      d.ok ? d.events.filter((e) => e.type === 'QuotasExceeded').map((e) => e.data.users) : null,
    );
    expect(crossed).toEqual([[], [], [[{ userId: other, usedBytes: 107, quotaBytes: 100 }]]]);
    expect(shard.users.get(other)).toMatchObject({ uploadBytes: 7, quotaBytes: 0 });
    second.commit(shard);
    expect(shard.users.get(one)).toMatchObject({ uploadBytes: 6, exceeded: true });
    expect(shard.users.get(other)).toMatchObject({ uploadBytes: 107, quotaBytes: 100 });
    const third = decideTrafficShard(shard, [report('r-4', [use(one, 1), use(other, 1)])]);
    expect(third[0]?.ok === true && third[0].answer).toEqual({
      kind: 'usage',
      refused: [],
      exceededUserIds: [one, other],
    });
  });

  it('refuses a report that names a user twice (the route sums them first): a bug, not a rejection', () => {
    const shard = shardWithAlice();
    expect(() =>
      decideTrafficShard(shard, [report('r-1', [use('alice', 1), use('bob', 1), use('alice', 2)])]),
    ).toThrow(/alice twice in one report/);
  });

  it('commits a batch onto the shard exactly as applying its events in order would', () => {
    // The last two ids hash alike (trafficUserHashOf): the shard's index tells them apart.
    const userIds = ['u-0', 'u-1', 'u-2', 'u-3', 'u-4', 'u-5', 'u-145233', 'u-1988000'];
    const bytes = fc.oneof(
      fc.integer({ min: 1, max: 100 }),
      fc.constant(Number.MAX_SAFE_INTEGER - 5),
      fc.constant(Number.MAX_SAFE_INTEGER),
    );
    const reportOf = fc
      .tuple(
        fc.integer({ min: 0, max: 6 }),
        fc.uniqueArray(fc.constantFrom(...userIds), { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(bytes, fc.integer({ min: 0, max: 100 })), {
          minLength: 4,
          maxLength: 4,
        }),
      )
      .map(([reportNumber, users, amounts]) =>
        report(
          `r-${reportNumber}`,
          users.map((userId, index) => use(userId, ...(amounts[index] ?? [1, 0]))),
        ),
      );
    const grantOf = fc
      .tuple(
        fc.constantFrom(...userIds),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 300 }),
      )
      .map(([userId, grantNumber, quota]) => grant(userId, `g-${grantNumber}`, quota));
    const resetOf = fc
      .tuple(
        fc.constantFrom(...userIds),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 300 }),
      )
      .map(([userId, resetNumber, quota]) => reset(userId, `x-${resetNumber}`, quota));
    const commandOf = fc.oneof(
      { arbitrary: reportOf, weight: 6 },
      { arbitrary: grantOf, weight: 2 },
      { arbitrary: resetOf, weight: 1 },
    );
    fc.assert(
      fc.property(
        fc.array(commandOf, { maxLength: 6 }),
        fc.array(commandOf, { minLength: 1, maxLength: 10 }),
        (earlier, batch) => {
          const folded = newTrafficShardState();
          const committed = newTrafficShardState();
          for (const commands of [earlier, batch]) {
            const decided = decideTrafficShardBatch(committed, commands);
            for (const decision of decided.decisions)
              if (decision.ok)
                for (const event of decision.events) applyTrafficEvent(folded, event);
            decided.commit(committed);
            expect(trafficSnapshotCodec.encode(committed)).toEqual(
              trafficSnapshotCodec.encode(folded),
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
