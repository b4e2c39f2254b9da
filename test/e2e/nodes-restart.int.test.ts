import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import {
  freePort,
  getJson,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

type NodeItem = {
  nodeId: string;
  status: string;
  lastHeartbeatAt: string | null;
  heartbeatCount: number;
  onlineUserCount: number | null;
  levelMin: number;
};

/**
 * The built service: a node registered, 30 concurrent heartbeats that write nothing to the event
 * log, a plan purchase that puts the user on the node's list with its level and expiry and in the
 * purchase history, the node going silent with a node_silent warning, and a restart that rebuilds
 * the registry from the log with every node unknown (no heartbeat replayed) until it calls in.
 */
describe('nodes in the built service, across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-nodes-'));
  let port: number;
  let service: ServiceProcess;

  beforeAll(async () => {
    port = await freePort();
    service = await startServiceProcess(dataDir, port, {
      NODE_SILENT_AFTER_MS: '1500',
      LOG_LEVEL: 'info',
    });
  });

  afterAll(() => {
    if (service.child.exitCode === null) service.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const nodes = async (): Promise<NodeItem[]> =>
    (await getJson(service.baseUrl, '/v1/nodes')).body.data['items'] as NodeItem[];
  const asNode = (apiKey: string, path: string, body?: unknown) =>
    fetch(`${service.baseUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as { data: Record<string, unknown> },
    }));

  it('keeps heartbeats out of the log, serves the right users, goes silent (recorded once), and restarts with the recorded status', async () => {
    const client = await postJson(service.baseUrl, '/v1/clients', {
      clientId: 'node-tokyo',
      role: 'node',
    });
    const nodeKey = String(client.body.data['apiKey']);
    const node = {
      nodeId: 'tokyo-1',
      name: 'Tokyo 1',
      group: 'default',
      levelMin: 1,
      clientId: 'node-tokyo',
    };
    expect((await postJson(service.baseUrl, '/v1/nodes', node)).status).toBe(201);
    expect((await nodes())[0]?.status).toBe('unknown');

    const log = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
    const head = () =>
      (log.prepare('SELECT max(position) AS head FROM events').get() as { head: number }).head;
    const statusEvents = () =>
      (
        log
          .prepare("SELECT type FROM events WHERE stream = 'nodestatus-tokyo-1' ORDER BY position")
          .all() as { type: string }[]
      ).map(({ type }) => type);
    // The first heartbeat is a change, recorded within a sweep tick; the next ones write nothing.
    await asNode(nodeKey, '/v1/nodes/tokyo-1/heartbeats', { onlineUserCount: 1, version: '1.0' });
    await eventually(() => (statusEvents().length === 1 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'NodeCameOnline recorded',
    });
    const headBefore = head();
    const beats = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        asNode(nodeKey, '/v1/nodes/tokyo-1/heartbeats', { onlineUserCount: index, version: '1.0' }),
      ),
    );
    expect(beats.every((beat) => beat.status === 200)).toBe(true);
    expect(head()).toBe(headBefore);
    expect((await nodes())[0]).toMatchObject({ status: 'online', heartbeatCount: 31 });

    // A wallet and a purchase: the user gets level 1 for 30 days and appears on the node's list.
    await postJson(service.baseUrl, '/v1/accounts', { accountId: 'clearing', currency: 'EUR' });
    await postJson(service.baseUrl, '/v1/accounts', { accountId: 'alice', currency: 'EUR' });
    await postJson(service.baseUrl, '/v1/transfers', {
      transferId: 't-1',
      debitAccountId: 'clearing',
      creditAccountId: 'alice',
      amountMinor: 5000,
      currency: 'EUR',
    });
    const bought = await postJson(service.baseUrl, '/v1/plans/basic-monthly/purchases', {
      purchaseId: 'buy-1',
      walletAccountId: 'alice',
      userId: 'u1',
    });
    expect(bought.status).toBe(202);
    const listed = await eventually(
      async () => {
        const users = await asNode(nodeKey, '/v1/nodes/tokyo-1/users');
        const items = users.body.data['items'] as {
          userId: string;
          level: number;
          expiresAt: string;
        }[];
        return items.length === 1 ? items[0] : undefined;
      },
      { timeoutMs: 10_000, what: 'u1 on the node list' },
    );
    expect(listed).toMatchObject({ userId: 'u1', level: 1 });
    const history = await eventually(
      async () => {
        const page = await getJson(service.baseUrl, '/v1/users/u1/purchases');
        return page.body.data['total_count'] === 1 ? page.body.data['items'] : undefined;
      },
      { timeoutMs: 10_000, what: 'the purchase in the history' },
    );
    expect(history).toMatchObject([
      {
        purchaseId: 'buy-1',
        planId: 'basic-monthly',
        amountMinor: 999,
        expiresAt: listed?.expiresAt,
      },
    ]);

    await eventually(async () => ((await nodes())[0]?.status === 'silent' ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the node silent',
    });
    await eventually(
      () => (service.output().includes('"message":"node_silent"') ? true : undefined),
      { timeoutMs: 10_000, what: 'the node_silent warning, logged once recorded' },
    );
    expect(statusEvents()).toEqual(['NodeCameOnline', 'NodeWentSilent']);
    const lastHeartbeatAt = (await nodes())[0]?.lastHeartbeatAt;

    service.child.kill('SIGTERM');
    await service.exited;
    service = await startServiceProcess(dataDir, port, { NODE_SILENT_AFTER_MS: '1500' });
    const [rebuilt] = await nodes();
    // Rebuilt from the status stream: silent since its last heartbeat; no heartbeat replayed.
    expect(rebuilt).toMatchObject({
      nodeId: 'tokyo-1',
      levelMin: 1,
      status: 'silent',
      heartbeatCount: 0,
      lastHeartbeatAt,
      onlineUserCount: null,
    });
    const again = await asNode(nodeKey, '/v1/nodes/tokyo-1/heartbeats', { onlineUserCount: 7 });
    expect(again.body.data).toMatchObject({
      status: 'online',
      heartbeatCount: 1,
      onlineUserCount: 7,
    });
    await eventually(() => (statusEvents().length === 3 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'NodeCameBack recorded',
    });
    expect(statusEvents()).toEqual(['NodeCameOnline', 'NodeWentSilent', 'NodeCameBack']);
    log.close();
  }, 60_000);
});
