import Database from 'better-sqlite3';
import { randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite.event-store';
import { EVENTS_FILE_NAME } from '../bin/event-store';
import { createTrafficWriter, type TrafficShardCommand } from '../domain/traffic/traffic-writer';
import { trafficShardOf } from '../domain/traffic/traffic.decider';
import { benchCommandContext } from './bench-context';
import { announce, withLedger } from './http-scenarios';
import { type LoadFigures, postCommand, runBounded, runLoad } from './load';
import { cpuPerRequestNote } from './process-cpu';
import { type Check, formatInteger, type Row } from './report';
import type { ServiceUnderTest } from './trials';

/**
 * The proxy-node lines of issue #20 on one service: heartbeats with online counts from many
 * nodes (and no event-store write for them), small traffic reports (10 records) from many nodes,
 * a node's user list among 100,000 subscribed users, and plan purchases. Each load runs three
 * short trials (the median by throughput is kept); CPU is the service's, every thread, from /proc.
 */
const NODES = {
  nodeCount: 100,
  userCount: 100_000,
  walletCount: 50,
  trialCount: 3,
  trialS: 4,
  connections: 32,
  /** The user list and purchases are judged on p99: fewer connections, as a node pulls. */
  listConnections: 4,
  purchaseConnections: 8,
};
const nodeIdOf = (index: number): string => `node-${index}`;
const userIdOf = (index: number): string => `user-${index}`;

/** 100,000 users holding a running plan (level 1, group default), written before the start. */
const seedUsers = async (dataDir: string): Promise<number> => {
  const startedMs = Date.now();
  const store = createSqliteEventStore({ path: join(dataDir, EVENTS_FILE_NAME) });
  const writer = createTrafficWriter({
    store,
    snapshots: null,
    limits: {
      mailboxCommandCountMax: 100_000,
      batchCommandCountMax: 16_384,
      conflictRetryCountMax: 3,
      streamLoadEventCountMax: 1000,
    },
    onEvent: () => undefined,
  });
  const now = new Date().toISOString();
  const grantOf = (index: number): TrafficShardCommand => {
    const userId = userIdOf(index);
    const subscription = {
      purchaseId: `seed-${index}`,
      planId: 'basic-monthly',
      level: 1,
      group: 'default',
      durationSeconds: 30 * 86_400,
      amountMinor: 999,
      currency: 'EUR',
    };
    const data = { userId, grantId: `seed-${index}`, quotaBytes: 2 ** 40, reason: 'plan', now };
    return {
      shardId: trafficShardOf(userId),
      command: { type: 'GrantQuota', data: { ...data, subscription } },
      eventIdSeed: null,
    };
  };
  const chunk = 5_000;
  await runBounded(NODES.userCount / chunk, 4, async (part) => {
    const commands = Array.from({ length: chunk }, (_, index) => grantOf(part * chunk + index));
    await writer.execute({
      commands,
      context: benchCommandContext('nodes-seed', now),
      idempotency: null,
    });
  });
  await writer.close();
  await store.close();
  return Date.now() - startedMs;
};

const request = async (
  service: ServiceUnderTest,
  method: 'GET' | 'POST',
  path: string,
  apiKey: string,
  body: unknown = null,
) => {
  const response = await fetch(`${service.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': uuidv7(),
    },
    ...(body === null ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as { code: number; data: Record<string, unknown> };
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${answer.code}`);
  return answer.data;
};

/** 100 node clients and their nodes, 50 funded wallets; the node keys, in node order. */
const setUp = async (service: ServiceUnderTest): Promise<string[]> => {
  const admin = service.apiKey;
  const keys: string[] = [];
  for (let index = 0; index < NODES.nodeCount; index += 1) {
    const clientId = `bench-node-${index}`;
    const client = await request(service, 'POST', '/v1/clients', admin, { clientId, role: 'node' });
    keys.push(String(client['apiKey']));
    await postCommand(service.baseUrl, admin, '/v1/nodes', {
      nodeId: nodeIdOf(index),
      name: `Node ${index}`,
      group: 'default',
      levelMin: 1,
      clientId,
    });
  }
  const open = (accountId: string, constraint: string) =>
    postCommand(service.baseUrl, admin, '/v1/accounts', { accountId, currency: 'EUR', constraint });
  await open('bench-clearing', 'none');
  for (let index = 0; index < NODES.walletCount; index += 1) {
    await open(`wallet-${index}`, 'debits_must_not_exceed_credits');
    await postCommand(service.baseUrl, admin, '/v1/transfers', {
      transferId: `fund-${index}`,
      debitAccountId: 'bench-clearing',
      creditAccountId: `wallet-${index}`,
      amountMinor: 100_000_000,
      currency: 'EUR',
    });
  }
  return keys;
};

type Trial = { figures: LoadFigures; cpuNote: string; loadAverage: number };

/** Three short trials of one load; the median by throughput, with its CPU per request. */
const trials = async (
  service: ServiceUnderTest,
  spec: Parameters<typeof runLoad>[0],
): Promise<Trial & { throughputs: number[] }> => {
  const done: Trial[] = [];
  for (let trial = 0; trial < NODES.trialCount; trial += 1) {
    const before = service.cpu();
    const figures = await runLoad(spec);
    const cpuNote = cpuPerRequestNote(before, service.cpu(), figures.sentCount);
    done.push({ figures, cpuNote, loadAverage: loadavg()[0] ?? 0 });
  }
  const sorted = [...done].sort((a, b) => a.figures.throughputPerS - b.figures.throughputPerS);
  const median = sorted[Math.floor(sorted.length / 2)] as Trial;
  return { ...median, throughputs: done.map((trial) => trial.figures.throughputPerS) };
};

const rowOf = (
  scenario: string,
  measured: Awaited<ReturnType<typeof trials>>,
  judged: { target: string; met: boolean; note: string },
): Row => ({
  scenario,
  requests: measured.figures.requests,
  throughputPerS: measured.figures.throughputPerS,
  unit: 'req/s',
  p50Ms: measured.figures.p50Ms,
  p99Ms: measured.figures.p99Ms,
  errors: measured.figures.errors,
  non2xx: measured.figures.non2xx,
  target: judged.target,
  met: judged.met && measured.figures.requests > 0,
  note: [
    judged.note,
    `median of ${NODES.trialCount} trials of ${NODES.trialS} s by req/s (${measured.throughputs.map(formatInteger).join(', ')})`,
    measured.cpuNote,
    `load average ${measured.loadAverage.toFixed(2)}`,
  ]
    .filter((part) => part !== '')
    .join('; '),
});

/** GET /v1/ready answers 200 once the read side has caught up with the seeded log. */
const waitReady = async (service: ServiceUnderTest): Promise<void> => {
  const deadlineMs = Date.now() + 300_000;
  while ((await fetch(`${service.baseUrl}/v1/ready`)).status !== 200) {
    if (Date.now() > deadlineMs) throw new Error('nodes: service not ready after 300 s');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
};

/** The position of the last event in the service's log, read beside it (WAL, read-only). */
const logHeadOf = (dataDir: string) => {
  const log = new Database(join(dataDir, EVENTS_FILE_NAME), { readonly: true });
  return {
    head: (): number =>
      (log.prepare('SELECT max(position) AS head FROM events').get() as { head: number }).head,
    statusEvents: (): number =>
      (
        log.prepare("SELECT count(*) AS n FROM events WHERE stream LIKE 'nodestatus-%'").get() as {
          n: number;
        }
      ).n,
    close: () => log.close(),
  };
};

export const nodesScenario = async (options: {
  cpuProfileDir: string | null;
}): Promise<{ rows: Row[]; checks: Check[] }> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-bench-nodes-'));
  announce(`nodes: seeding ${formatInteger(NODES.userCount)} subscribed users`);
  const seedMs = await seedUsers(dataDir);
  return withLedger({ ...options, dataDir, readyTimeoutMs: 300_000 }, async (service) => {
    const startedMs = Date.now();
    await waitReady(service);
    announce(
      `nodes: service ready (read side caught up) ${Date.now() - startedMs} ms after health`,
    );
    const keys = await setUp(service);
    const log = logHeadOf(dataDir);
    try {
      return await measure(service, keys, log, seedMs);
    } finally {
      log.close();
    }
  });
};

const measure = async (
  service: ServiceUnderTest,
  keys: string[],
  log: ReturnType<typeof logHeadOf>,
  seedMs: number,
): Promise<{ rows: Row[]; checks: Check[] }> => {
  const base = { baseUrl: service.baseUrl, apiKey: service.apiKey, nextBody: () => '' };
  const load = { ...base, durationS: NODES.trialS };
  const anyNode = () => {
    const index = randomInt(NODES.nodeCount);
    return { index, apiKey: keys[index] ?? '' };
  };
  // Every node online and recorded so (one NodeCameOnline each) before heartbeats are measured.
  await Promise.all(
    keys.map((apiKey, index) =>
      request(service, 'POST', `/v1/nodes/${nodeIdOf(index)}/heartbeats`, apiKey, {
        onlineUserCount: 1,
      }),
    ),
  );
  const recordedByMs = Date.now() + 30_000;
  while (log.statusEvents() < NODES.nodeCount) {
    if (Date.now() > recordedByMs) throw new Error('nodes: not every node recorded online');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // The 16 traffic shards are folded from the seeded log on first use: once, before measuring.
  await request(service, 'GET', `/v1/nodes/${nodeIdOf(0)}/users?page_size=1`, keys[0] ?? '');
  announce('nodes: heartbeats with online counts');
  const headBefore = log.head();
  const heartbeats = await trials(service, {
    ...load,
    path: '/',
    connections: NODES.connections,
    nextRequest: () => {
      const { index, apiKey } = anyNode();
      const body = JSON.stringify({ onlineUserCount: randomInt(5000), loadPercent: 20 });
      return { method: 'POST', path: `/v1/nodes/${nodeIdOf(index)}/heartbeats`, apiKey, body };
    },
  });
  const headAfter = log.head();

  announce('nodes: traffic reports of 10 records');
  const reports = await trials(service, {
    ...load,
    path: '/',
    connections: NODES.connections,
    nextRequest: () => {
      const records = Array.from({ length: 10 }, () => ({
        userId: userIdOf(randomInt(NODES.userCount)),
        uploadBytes: randomInt(1_000_000),
        downloadBytes: randomInt(10_000_000),
      }));
      const body = JSON.stringify({ reportId: uuidv7(), records });
      return { method: 'POST', path: '/v1/traffic/reports', apiKey: anyNode().apiKey, body };
    },
  });

  const listOf = (pageSize: number) => {
    announce(`nodes: user lists, pages of ${formatInteger(pageSize)}`);
    return trials(service, {
      ...load,
      path: '/',
      connections: NODES.listConnections,
      nextRequest: () => {
        const { index, apiKey } = anyNode();
        const path = `/v1/nodes/${nodeIdOf(index)}/users?page_size=${pageSize}`;
        return { method: 'GET', path, apiKey, body: null };
      },
    });
  };
  const listSmall = await listOf(100);
  const listLarge = await listOf(10_000);

  announce('nodes: plan purchases');
  const purchases = await trials(service, {
    ...load,
    path: '/v1/plans/basic-monthly/purchases',
    connections: NODES.purchaseConnections,
    nextBody: () =>
      JSON.stringify({
        purchaseId: uuidv7(),
        walletAccountId: `wallet-${randomInt(NODES.walletCount)}`,
        userId: userIdOf(randomInt(NODES.userCount)),
      }),
  });

  const users = formatInteger(NODES.userCount);
  const heartbeatsMet =
    heartbeats.figures.throughputPerS >= 1000 &&
    heartbeats.figures.p99Ms < 50 &&
    headAfter === headBefore;
  const rows: Row[] = [
    rowOf(`heartbeats + online counts, ${NODES.nodeCount} nodes`, heartbeats, {
      target: '≥ 1,000 req/s, p99 < 50 ms, no event-store write',
      met: heartbeatsMet,
      note: `log head ${headBefore} before the ${NODES.trialCount} trials, ${headAfter} after; ${NODES.connections} connections`,
    }),
    rowOf(`traffic reports × 10 records, ${NODES.nodeCount} nodes`, reports, {
      target: '≥ 1,000 req/s, p99 < 50 ms',
      met: reports.figures.throughputPerS >= 1000 && reports.figures.p99Ms < 50,
      note: `${NODES.connections} connections, random users among ${users}`,
    }),
    rowOf(`a node's user list among ${users} users, page 100`, listSmall, {
      target: 'p99 < 100 ms',
      met: listSmall.figures.p99Ms < 100,
      note: `every user served (level 1, group default); ${NODES.listConnections} connections; ${users} users seeded in ${formatInteger(seedMs)} ms`,
    }),
    rowOf(`a node's user list among ${users} users, page 10,000`, listLarge, {
      target: 'p99 < 100 ms',
      met: listLarge.figures.p99Ms < 100,
      note: `the largest page (10 pulls take the whole list); ${NODES.listConnections} connections`,
    }),
    rowOf('plan purchase (202 answer)', purchases, {
      target: 'p99 < 200 ms',
      met: purchases.figures.p99Ms < 200,
      note: `${NODES.walletCount} wallets, ${NODES.purchaseConnections} connections; the saga grants and posts after the answer`,
    }),
  ];
  const checks: Check[] = [
    {
      scenario: 'nodes',
      measure: 'event-store writes during the heartbeat trials',
      figure: String((headAfter ?? 0) - (headBefore ?? 0)),
      target: '0',
      met: headAfter === headBefore,
    },
  ];
  return { rows, checks };
};
