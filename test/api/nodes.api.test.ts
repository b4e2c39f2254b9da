import { createInMemoryNodePresenceStore } from '../../adapters/presence/in-memory.node-presence-store';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { nodePresenceRoutes } from '../../api/routes/node-presence.route';
import { nodeRoutes } from '../../api/routes/nodes.route';
import { trafficRoutes } from '../../api/routes/traffic.route';
import { createNodePresence, type PresenceChange } from '../../domain/node/node-presence';
import { trafficShardOf, type TrafficCommand } from '../../domain/traffic/traffic.decider';
import { executeTrafficCommand } from '../../domain/traffic/traffic-writer';
import { createLedger, testContext } from '../support/ledger-harness';
import { bearer, createTestApp, type TestApp } from './support/test-app';

const DAY_MS = 24 * 3600 * 1000;
const t0 = Date.parse('2026-03-01T00:00:00.000Z');
const SILENT_AFTER_MS = 30_000;

/** The node routes on a real SQLite store, a fake clock and the traffic writer. */
const createNodeApp = async () => {
  let nowMs = t0;
  const store = createSqliteEventStore({ path: ':memory:' });
  const harness = createLedger(store);
  const changes: PresenceChange[] = [];
  const presence = createNodePresence({
    store: createInMemoryNodePresenceStore({ ttlMs: 2 * SILENT_AFTER_MS, nowMs: () => nowMs }),
    runtime: harness.runtime,
    nowMs: () => nowMs,
    silentAfterMs: SILENT_AFTER_MS,
    onChange: (change) => changes.push(change),
  });
  const services = {
    runtime: harness.runtime,
    traffic: harness.traffic,
    presence,
    nowMs: () => nowMs,
  };
  const app = await createTestApp({
    routes: [
      nodeRoutes(services),
      nodePresenceRoutes(services),
      trafficRoutes({ ...services, ledger: harness.ledger, channelVerifiers: [], paymentTtlMs: 1 }),
    ],
    nowMs: () => nowMs,
  });
  const nodeKey = await app.addClient('node-client-1', 'node');
  const otherNodeKey = await app.addClient('node-client-2', 'node');
  /** A plan purchase's grant, as the purchase saga sends it. */
  const buy = async (userId: string, purchaseId: string, level: number, group: string) => {
    const command: TrafficCommand = {
      type: 'GrantQuota',
      data: {
        userId,
        grantId: `plan-${purchaseId}`,
        quotaBytes: 1000,
        reason: 'plan',
        now: new Date(nowMs).toISOString(),
        subscription: {
          purchaseId,
          planId: 'pro',
          level,
          group,
          durationSeconds: 30 * 86_400,
          amountMinor: 2999,
          currency: 'EUR',
        },
      },
    };
    const shard = { shardId: trafficShardOf(userId), command, eventIdSeed: null };
    const outcome = await executeTrafficCommand(harness.traffic, shard, testContext());
    expect(outcome.ok).toBe(true);
  };
  const usage = async (userId: string, bytes: number) => {
    const command: TrafficCommand = {
      type: 'RecordUsage',
      data: {
        reportId: `r-${userId}-${bytes}`,
        nodeId: 'tokyo-1',
        usages: [{ userId, uploadBytes: bytes, downloadBytes: 0 }],
        now: new Date(nowMs).toISOString(),
      },
    };
    const shard = { shardId: trafficShardOf(userId), command, eventIdSeed: null };
    await executeTrafficCommand(harness.traffic, shard, testContext());
  };
  return {
    app,
    store,
    presence,
    changes,
    nodeKey,
    otherNodeKey,
    buy,
    usage,
    advance: (ms: number) => (nowMs += ms),
  };
};

type NodeApp = Awaited<ReturnType<typeof createNodeApp>>;

let keyCount = 0;
const post = (app: TestApp, path: string, body: unknown, apiKey: string) =>
  app
    .http()
    .post(path)
    .set(bearer(apiKey))
    .set('Idempotency-Key', `key-${(keyCount += 1)}`)
    .send(body as object);
const get = (app: TestApp, path: string, apiKey: string) =>
  app.http().get(path).set(bearer(apiKey));

const tokyo = {
  nodeId: 'tokyo-1',
  name: 'Tokyo 1',
  group: 'asia',
  levelMin: 2,
  address: 'tokyo-1.example:443',
  region: 'jp',
  clientId: 'node-client-1',
};

describe('nodes over HTTP', () => {
  let node: NodeApp;
  beforeEach(async () => {
    node = await createNodeApp();
    const registered = await post(node.app, '/v1/nodes', tokyo, node.app.keys.admin);
    expect(registered.status).toBe(201);
  });

  it('registers a node for admins only, shows it unknown, and lets only its own client read it', async () => {
    const listed = await get(node.app, '/v1/nodes', node.app.keys.admin);
    expect(listed.body.data).toMatchObject({ total_count: 1, page_num: 1 });
    expect(listed.body.data.items[0]).toMatchObject({ ...tokyo, status: 'unknown', enabled: true });
    expect(
      (await post(node.app, '/v1/nodes', { ...tokyo, nodeId: 'x' }, node.nodeKey)).status,
    ).toBe(403);
    expect((await get(node.app, '/v1/nodes/tokyo-1', node.nodeKey)).body.data.node.name).toBe(
      'Tokyo 1',
    );
    expect((await get(node.app, '/v1/node/info', node.nodeKey)).body.data.node.nodeId).toBe(
      'tokyo-1',
    );
    const other = await get(node.app, '/v1/nodes/tokyo-1', node.otherNodeKey);
    expect([other.status, other.body.code]).toEqual([404, 40470]);
    expect((await get(node.app, '/v1/nodes', node.nodeKey)).status).toBe(403);
  });

  it('refuses bad registrations with a clear 4xx', async () => {
    const admin = node.app.keys.admin;
    const cases: [unknown, number, number][] = [
      [{ ...tokyo, levelMin: 256 }, 400, 40001],
      [{ ...tokyo, nodeId: 'bad id' }, 400, 40001],
      [{ ...tokyo, colour: 'red' }, 400, 40001],
      [{ ...tokyo, levelMin: null }, 400, 40001],
      [{ ...tokyo, nodeId: 'tokyo-2', clientId: 'admin' }, 422, 42270],
      [{ ...tokyo, nodeId: 'tokyo-2', clientId: 'nobody' }, 422, 42270],
      [{ ...tokyo, nodeId: 'tokyo-2' }, 409, 40972],
      [{ ...tokyo, levelMin: 3 }, 409, 40970],
    ];
    for (const [body, status, code] of cases) {
      const response = await post(node.app, '/v1/nodes', body, admin);
      expect([response.status, response.body.code]).toEqual([status, code]);
    }
    const again = await post(node.app, '/v1/nodes', tokyo, admin);
    expect(again.status).toBe(201);
  });

  it('updates and retires a node; a retired node sends no heartbeat and has no list', async () => {
    const admin = node.app.keys.admin;
    const patched = await node.app
      .http()
      .patch('/v1/nodes/tokyo-1')
      .set(bearer(admin))
      .send({ levelMin: 1 });
    expect(patched.body.data.node).toMatchObject({ levelMin: 1, group: 'asia' });
    const empty = await node.app.http().patch('/v1/nodes/tokyo-1').set(bearer(admin)).send({});
    expect(empty.status).toBe(400);
    const cleared = await node.app
      .http()
      .patch('/v1/nodes/tokyo-1')
      .set(bearer(admin))
      .send({ levelMin: null });
    expect([cleared.status, cleared.body.data.field]).toEqual([400, 'levelMin']);
    const unknown = await node.app
      .http()
      .patch('/v1/nodes/nope')
      .set(bearer(admin))
      .send({ levelMin: 1 });
    expect(unknown.status).toBe(404);
    const retired = await node.app.http().delete('/v1/nodes/tokyo-1').set(bearer(admin));
    expect(retired.body.data.node).toMatchObject({ enabled: false });
    const beat = await post(
      node.app,
      '/v1/nodes/tokyo-1/heartbeats',
      { onlineUserCount: 1 },
      node.nodeKey,
    );
    expect([beat.status, beat.body.code]).toEqual([409, 40971]);
    expect((await get(node.app, '/v1/nodes/tokyo-1/users', node.nodeKey)).status).toBe(409);
    expect((await get(node.app, '/v1/nodes', admin)).body.data.total_count).toBe(0);
    expect((await get(node.app, '/v1/nodes?retired=true', admin)).body.data.total_count).toBe(1);
  });

  it('keeps concurrent heartbeats out of the log: all counted, none written to the event store', async () => {
    const headBefore = await node.store.headPosition();
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        post(
          node.app,
          '/v1/nodes/tokyo-1/heartbeats',
          { onlineUserCount: index, loadPercent: 12.5, version: '1.0.0' },
          node.nodeKey,
        ),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    expect(await node.store.headPosition()).toBe(headBefore);
    const [listed] = (await get(node.app, '/v1/nodes', node.app.keys.admin)).body.data.items;
    expect(listed).toMatchObject({
      status: 'online',
      heartbeatCount: 100,
      lastHeartbeatAt: new Date(t0).toISOString(),
    });
    expect(responses.map((response) => response.body.data.onlineUserCount)).toContain(
      listed.onlineUserCount,
    );
    const bad = await post(
      node.app,
      '/v1/nodes/tokyo-1/heartbeats',
      { onlineUserCount: -1 },
      node.nodeKey,
    );
    expect([bad.status, bad.body.code]).toEqual([400, 40001]);
    const nullLoad = await post(
      node.app,
      '/v1/nodes/tokyo-1/heartbeats',
      { onlineUserCount: 1, loadPercent: null },
      node.nodeKey,
    );
    expect([nullLoad.status, nullLoad.body.data.field]).toEqual([400, 'loadPercent']);
    const foreign = await post(
      node.app,
      '/v1/nodes/tokyo-1/heartbeats',
      { onlineUserCount: 1 },
      node.otherNodeKey,
    );
    expect(foreign.status).toBe(404);
  });

  it('records a node online, silent past the deadline (once), and back at its next heartbeat', async () => {
    await post(node.app, '/v1/nodes/tokyo-1/heartbeats', { onlineUserCount: 5 }, node.nodeKey);
    expect(await node.presence.sweep(['tokyo-1'])).toHaveLength(1);
    node.advance(SILENT_AFTER_MS + 1);
    expect(await node.presence.sweep(['tokyo-1'])).toHaveLength(1);
    expect(await node.presence.sweep(['tokyo-1'])).toHaveLength(0);
    const [silent] = (await get(node.app, '/v1/nodes', node.app.keys.admin)).body.data.items;
    expect(silent).toMatchObject({ status: 'silent', onlineUserCount: 5 });
    await post(node.app, '/v1/nodes/tokyo-1/heartbeats', { onlineUserCount: 6 }, node.nodeKey);
    await node.presence.sweep(['tokyo-1']);
    expect(node.changes.map(({ event }) => event)).toEqual([
      'NodeCameOnline',
      'NodeWentSilent',
      'NodeCameBack',
    ]);
    const again = await get(node.app, '/v1/nodes/tokyo-1', node.nodeKey);
    expect(again.body.data.node).toMatchObject({ status: 'online', onlineUserCount: 6 });
  });

  it('lists only the users the node may serve, and a user leaves it at expiry', async () => {
    await node.buy('alice', 'p-alice', 2, 'asia'); // Served.
    await node.buy('bob', 'p-bob', 1, 'asia'); // Level too low.
    await node.buy('carol', 'p-carol', 3, 'europe'); // Other group.
    await node.buy('dave', 'p-dave', 3, 'asia');
    await node.usage('dave', 1001); // Over quota.
    node.advance(DAY_MS);
    await node.buy('erin', 'p-erin', 2, 'asia'); // Bought a day later: expires a day later.
    const users = async (query = '') =>
      (await get(node.app, `/v1/nodes/tokyo-1/users${query}`, node.nodeKey)).body.data;
    const listed = await users();
    expect(listed.items.map((user: { userId: string }) => user.userId)).toEqual(['alice', 'erin']);
    expect(listed.items[0]).toEqual({
      userId: 'alice',
      level: 2,
      expiresAt: new Date(t0 + 30 * DAY_MS).toISOString(),
      quotaBytes: 1000,
      usedBytes: 0,
      remainingBytes: 1000,
    });
    const second = await users('?page_size=1&page_num=2'); // A page merged across shards.
    expect([second.total_count, second.total_page, second.items[0].userId]).toEqual([2, 2, 'erin']);
    node.advance(29 * DAY_MS - 1);
    expect((await users()).total_count).toBe(2);
    const alice = async () =>
      (await get(node.app, '/v1/traffic/users/alice', node.app.keys.admin)).body.data.traffic;
    expect(await alice()).toMatchObject({ level: 2, activeLevel: 2 });
    node.advance(1); // alice's expiry instant.
    expect((await users()).items.map((user: { userId: string }) => user.userId)).toEqual(['erin']);
    expect(await alice()).toMatchObject({ level: 2, activeLevel: 0 });
    const ahead = await users(`?at=${new Date(t0 + 31 * DAY_MS).toISOString()}`);
    expect(ahead.total_count).toBe(0);
    const before = await users(`?at=${new Date(t0 + DAY_MS).toISOString()}`); // Before the cached.
    expect(before.items.map((user: { userId: string }) => user.userId)).toEqual(['alice', 'erin']);
    await node.usage('erin', 1001); // The shard changed: its cached list is computed again.
    expect((await users()).total_count).toBe(0);
    const bad = await get(node.app, '/v1/nodes/tokyo-1/users?at=tomorrow', node.nodeKey);
    expect(bad.status).toBe(400);
    expect((await get(node.app, '/v1/nodes/tokyo-1/users', node.otherNodeKey)).status).toBe(404);
  });

  it('decides a purchase racing an expiry by its own time: renewed just before, the user stays', async () => {
    await node.buy('alice', 'p-1', 2, 'asia');
    node.advance(30 * DAY_MS - 1);
    await node.buy('alice', 'p-2', 2, 'asia'); // One ms before the expiry: extends it.
    node.advance(1);
    const listed = (await get(node.app, '/v1/nodes/tokyo-1/users', node.nodeKey)).body.data;
    expect(listed.items).toMatchObject([
      { userId: 'alice', expiresAt: new Date(t0 + 60 * DAY_MS).toISOString() },
    ]);
  });
});
