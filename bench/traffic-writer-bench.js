// The traffic writer's own path on one thread, without HTTP: decide, seal (hash chain), insert,
// the Idempotency-Key record, commit onto the shards, for 400 reports of 1,000 records over
// 100,000 users (the same reports for every build: a fixed seed), 8 requests in flight, with a
// real SQLite store in a temp dir; prints this process's CPU per record.
// usage (after npm run build): node bench/traffic-writer-bench.js <a build's dist directory>,
// alternating the builds to compare (the body's parse and the route are not in it).
const { join } = require('node:path');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir, loadavg } = require('node:os');
const dist = process.argv[2];
const REPORTS = 400,
  RECORDS = 1000,
  USERS = 100_000,
  INFLIGHT = 8;
let seed = 12345;
const rand = (n) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % n;
};
const { createSqliteEventStore } = require(`${dist}/adapters/eventstore/sqlite.event-store`);
const { createTrafficWriter } = require(`${dist}/domain/traffic/traffic-writer`);
const { trafficShardOf } = require(`${dist}/domain/traffic/traffic.decider`);
const { benchCommandContext } = require(`${dist}/bench/bench-context`);
const reports = [];
for (let report = 0; report < REPORTS + 50; report += 1) {
  const byShard = new Map();
  const seen = new Set();
  for (let r = 0; r < RECORDS; r += 1) {
    const userId = `user-${rand(USERS)}`;
    if (seen.has(userId)) continue;
    seen.add(userId);
    const shard = trafficShardOf(userId);
    const usages = byShard.get(shard) ?? [];
    usages.push({ userId, uploadBytes: 1 + rand(1_000_000), downloadBytes: rand(10_000_000) });
    byShard.set(shard, usages);
  }
  reports.push(byShard);
}
const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wbench-'));
  const store = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const writer = createTrafficWriter({
    store,
    snapshots: null,
    limits: {
      mailboxCommandCountMax: 1_000_000,
      batchCommandCountMax: 16_384,
      conflictRetryCountMax: 3,
      streamLoadEventCountMax: 100_000,
    },
    onEvent: () => undefined,
  });
  const run = async (index) => {
    const now = new Date(1_800_000_000_000 + index * 1000).toISOString();
    const reportId = `node-1:r-${index}`;
    const reply = await writer.execute({
      commands: [...reports[index]].map(([shardId, usages]) => ({
        shardId,
        command: { type: 'RecordUsage', data: { reportId, nodeId: 'node-1', usages, now } },
        eventIdSeed: `${reportId}:${shardId}`,
      })),
      context: { ...benchCommandContext(`c-${index}`, now), idempotencyKey: `k-${index}` },
      idempotency: {
        scope: 'node-1 POST /v1/traffic/reports',
        key: `k-${index}`,
        fingerprint: 'f'.repeat(64),
        createdAtMs: 1_800_000_000_000,
        respond: (outcomes) => ({
          status: 200,
          body: {
            code: 0,
            msg: 'ok',
            data: {
              reportId,
              exceeded: outcomes.flatMap((o) => (o.ok ? o.answer.exceededUserIds : [])),
              position: null,
            },
          },
          headers: {},
        }),
      },
    });
    if (reply.kind !== 'decided') throw new Error(reply.kind);
  };
  const drive = async (from, to) => {
    let next = from;
    await Promise.all(
      Array.from({ length: INFLIGHT }, async () => {
        while (next < to) await run(next++);
      }),
    );
  };
  await drive(0, 50); // warm-up
  const before = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await drive(50, 50 + REPORTS);
  const cpu = process.cpuUsage(before);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const records = REPORTS * RECORDS;
  console.log(
    JSON.stringify({
      dist,
      cpuUsPerRecord: +((cpu.user + cpu.system) / records).toFixed(3),
      userUsPerRecord: +(cpu.user / records).toFixed(3),
      wallMs: Math.round(wallMs),
      load1: loadavg()[0].toFixed(2),
    }),
  );
  await writer.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
};
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
