import { trafficShardOf, type TrafficCommand } from '../../domain/traffic/traffic.decider';
import { testContext } from '../support/ledger-harness';
import { createReadSideApp, type ReadSideApp } from './queries-support';

/** Runs one traffic command on its user's shard; answers the position of its commit. */
const write = async (app: ReadSideApp, userId: string, command: TrafficCommand) => {
  const reply = await app.ledger.traffic.execute({
    commands: [{ shardId: trafficShardOf(userId), command, eventIdSeed: null }],
    context: testContext(),
    idempotency: null,
  });
  if (reply.kind !== 'decided' || reply.position === null) throw new Error('not written');
  return reply.position.toString();
};

const NOW = '2026-03-01T08:00:00.000Z';
const DAY_SECONDS = 86_400;
/** A plan of `level` in `group` for `durationSeconds` (expiry NOW + seconds), or plain quota. */
const grant = (
  userId: string,
  plan: { level: number; group: string; durationSeconds: number } | null,
) =>
  ({
    type: 'GrantQuota',
    data: {
      userId,
      grantId: `g-${userId}`,
      quotaBytes: 100,
      reason: 'plan',
      now: NOW,
      ...(plan === null
        ? {}
        : {
            subscription: {
              purchaseId: `buy-${userId}`,
              planId: 'pro',
              amountMinor: 100,
              currency: 'EUR',
              ...plan,
            },
          }),
    },
  }) as const satisfies TrafficCommand;

const idsOf = (response: { body: { data: { items: { userId: string }[] } } }): string[] =>
  response.body.data.items.map((item) => item.userId);

describe('the node user list (GET /v1/node/users, read model)', () => {
  let app: ReadSideApp;
  let position: string;
  beforeAll(async () => {
    app = await createReadSideApp();
    // u01-u09: level 1 or 2, groups asia/europe, plans of 10 or 40 days; u10 plain quota (no
    // plan, no expiry); u11 over its quota (not allowed); u12 never granted anything.
    for (let index = 1; index <= 9; index += 1)
      await write(
        app,
        `u0${index}`,
        grant(`u0${index}`, {
          level: 1 + (index % 2),
          group: index <= 5 ? 'asia' : 'europe',
          durationSeconds: (index % 3 === 0 ? 40 : 10) * DAY_SECONDS,
        }),
      );
    await write(app, 'u10', grant('u10', null));
    await write(
      app,
      'u11',
      grant('u11', { level: 1, group: 'asia', durationSeconds: 10 * DAY_SECONDS }),
    );
    await write(app, 'u11', {
      type: 'RecordUsage',
      data: {
        reportId: 'r1',
        nodeId: 'n1',
        usages: [{ userId: 'u11', uploadBytes: 101, downloadBytes: 0 }],
        now: NOW,
      },
    });
    position = await write(app, 'u12', {
      type: 'RecordUsage',
      data: {
        reportId: 'r2',
        nodeId: 'n1',
        usages: [{ userId: 'u12', uploadBytes: 1, downloadBytes: 0 }],
        now: NOW,
      },
    });
  });
  afterAll(() => app.stop());

  it('lists allowed users by id, filtered by level, group and expiry', async () => {
    const all = await app.get(`/v1/node/users?after=${position}&page_size=100`, app.keys.admin);
    expect(idsOf(all)).toEqual([
      'u01',
      'u02',
      'u03',
      'u04',
      'u05',
      'u06',
      'u07',
      'u08',
      'u09',
      'u10',
    ]);
    expect(all.body.data).toMatchObject({ total_count: 10, next_after_user_id: null });
    expect(all.body.data.items[1]).toMatchObject({
      userId: 'u02',
      level: 1,
      group: 'asia',
      allowed: true,
    });
    const levelTwo = await app.get('/v1/node/users?level=2', app.keys.admin);
    expect(idsOf(levelTwo)).toEqual(['u01', 'u03', 'u05', 'u07', 'u09']);
    const europe = await app.get('/v1/node/users?group=europe&level=1', app.keys.admin);
    expect(idsOf(europe)).toEqual(['u06', 'u08']);
    // Plans of 40 days run past March 20th; 10-day plans and u10 (no plan) do not.
    const lasting = await app.get(
      `/v1/node/users?expires_from=${encodeURIComponent('2026-03-20T00:00:00Z')}`,
      app.keys.admin,
    );
    expect(idsOf(lasting)).toEqual(['u03', 'u06', 'u09']);
    expect(lasting.body.data.total_count).toBe(3);
  });

  it('walks the list by keyset: each page after the previous one’s last user, none twice', async () => {
    const first = await app.get('/v1/node/users?page_size=4', app.keys.admin);
    expect(idsOf(first)).toEqual(['u01', 'u02', 'u03', 'u04']);
    expect(first.body.data.next_after_user_id).toBe('u04');
    const second = await app.get('/v1/node/users?page_size=4&after_user_id=u04', app.keys.admin);
    expect(second.body.data).toMatchObject({ page_size: 4, next_after_user_id: 'u08' });
    expect(second.body.data).not.toHaveProperty('total_count');
    expect(idsOf(second)).toEqual(['u05', 'u06', 'u07', 'u08']);
    const last = await app.get('/v1/node/users?page_size=4&after_user_id=u08', app.keys.admin);
    expect(idsOf(last)).toEqual(['u09', 'u10']);
    expect(last.body.data.next_after_user_id).toBeNull();
    const filtered = await app.get('/v1/node/users?group=asia&after_user_id=u02', app.keys.admin);
    expect(idsOf(filtered)).toEqual(['u03', 'u04', 'u05']);
  });

  it.each([
    ['both ways to page', '/v1/node/users?page_num=2&after_user_id=u04'],
    ['a level out of range', '/v1/node/users?level=256'],
    ['a malformed expiry', '/v1/node/users?expires_from=soon'],
    ['a malformed cursor', `/v1/node/users?after_user_id=${encodeURIComponent('{"$gt":""}')}`],
  ])('answers 400 invalid_request to %s', async (_what, path) => {
    const response = await app.get(path, app.keys.admin);
    expect([response.status, response.body.code]).toEqual([400, 40001]);
  });
});
