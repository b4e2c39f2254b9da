import { trafficShardOf, type TrafficCommand } from '../../domain/traffic/traffic.decider';
import { testContext } from '../support/ledger-harness';
import { createReadSideApp, type ReadSideApp } from './queries-support';

/** Runs traffic commands through the writer; answers the position of their commit. */
const write = async (app: ReadSideApp, commands: TrafficCommand[]): Promise<string> => {
  const reply = await app.ledger.traffic.execute({
    commands: commands.map((command) => ({
      shardId: trafficShardOf('u1'), // Every command here is about u1.
      command,
      eventIdSeed: null,
    })),
    context: testContext(),
    idempotency: null,
  });
  if (reply.kind !== 'decided' || reply.position === null) throw new Error('not written');
  return reply.position.toString();
};
const usage = (
  nodeId: string,
  reportId: string,
  now: string,
  uploadBytes: number,
): TrafficCommand => ({
  type: 'RecordUsage',
  data: {
    reportId: `${nodeId}:${reportId}`,
    nodeId,
    usages: [{ userId: 'u1', uploadBytes, downloadBytes: 10 }],
    now,
  },
});
const purchase = (purchaseId: string, now: string, amountMinor: number): TrafficCommand => ({
  type: 'GrantQuota',
  data: {
    userId: 'u1',
    grantId: `plan-${purchaseId}`,
    quotaBytes: 1000,
    reason: 'plan',
    now,
    subscription: {
      purchaseId,
      planId: 'pro',
      level: 2,
      group: 'asia',
      durationSeconds: 30 * 86_400,
      amountMinor,
      currency: 'EUR',
    },
  },
});

describe('per-node daily traffic and purchase history (read models)', () => {
  let app: ReadSideApp;
  let position: string;
  beforeAll(async () => {
    app = await createReadSideApp();
    await write(app, [purchase('p1', '2026-03-01T08:00:00.000Z', 999)]);
    await write(app, [purchase('p2', '2026-03-05T08:00:00.000Z', 2999)]);
    await write(app, [usage('node-a', 'r1', '2026-03-01T23:59:59.999Z', 100)]);
    await write(app, [usage('node-a', 'r2', '2026-03-01T10:00:00.000Z', 50)]);
    await write(app, [usage('node-a', 'r3', '2026-03-02T00:00:00.000Z', 7)]);
    position = await write(app, [usage('node-b', 'r1', '2026-03-01T12:00:00.000Z', 1)]);
  });
  afterAll(() => app.stop());

  it("sums a node's bytes per UTC day, filters a half-open day range, and keeps nodes apart", async () => {
    const days = await app.get(`/v1/traffic/nodes/node-a/days?after=${position}`, app.keys.admin);
    expect(days.body.data.items).toEqual([
      {
        nodeId: 'node-a',
        day: '2026-03-01',
        uploadBytes: 150,
        downloadBytes: 20,
        userRecordCount: 2,
      },
      {
        nodeId: 'node-a',
        day: '2026-03-02',
        uploadBytes: 7,
        downloadBytes: 10,
        userRecordCount: 1,
      },
    ]);
    const second = await app.get('/v1/traffic/nodes/node-a/days?from=2026-03-02', app.keys.auditor);
    expect(second.body.data.items.map((item: { day: string }) => item.day)).toEqual(['2026-03-02']);
    const first = await app.get('/v1/traffic/nodes/node-a/days?to=2026-03-02', app.keys.admin);
    expect(first.body.data.total_count).toBe(1);
    const bad = await app.get('/v1/traffic/nodes/node-a/days?from=March', app.keys.admin);
    expect([bad.status, bad.body.code]).toEqual([400, 40001]);
  });

  it('lets a node read its own totals only', async () => {
    const nodeKey = await app.addClient('node-b', 'node');
    const own = await app.get(`/v1/traffic/nodes/node-b/days?after=${position}`, nodeKey);
    expect(own.body.data.items).toMatchObject([{ day: '2026-03-01', uploadBytes: 1 }]);
    expect((await app.get('/v1/traffic/nodes/node-a/days', nodeKey)).status).toBe(403);
  });

  it("lists a user's purchases newest first with plan, amount, time and resulting expiry", async () => {
    const page = await app.get(`/v1/users/u1/purchases?after=${position}`, app.keys.admin);
    expect(page.body.data).toMatchObject({ total_count: 2, page_num: 1 });
    expect(page.body.data.items).toEqual([
      {
        purchaseId: 'p2',
        userId: 'u1',
        planId: 'pro',
        amountMinor: 2999,
        currency: 'EUR',
        quotaBytes: 1000,
        level: 2,
        group: 'asia',
        purchasedAt: '2026-03-05T08:00:00.000Z',
        expiresAt: '2026-04-30T08:00:00.000Z',
      },
      expect.objectContaining({
        purchaseId: 'p1',
        amountMinor: 999,
        expiresAt: '2026-03-31T08:00:00.000Z',
      }),
    ]);
    expect(
      (await app.get('/v1/users/u1/purchases?page_size=1&page_num=2', app.keys.auditor)).body.data
        .items,
    ).toHaveLength(1);
    expect((await app.get('/v1/users/u1/purchases', app.keys.merchant)).status).toBe(403);
    expect(
      (await app.get('/v1/users/nobody/purchases', app.keys.admin)).body.data.total_count,
    ).toBe(0);
  });
});
