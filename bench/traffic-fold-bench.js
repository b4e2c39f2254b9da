// Folds one traffic log (reports of 1,000 records over 100,000 users, written once by the traffic
// writer) with a build's own projection runner and read models; prints CPU per user change.
// usage (after npm run build): node bench/traffic-fold-bench.js write <dir>, then
//   node bench/traffic-fold-bench.js fold <a build's dist directory> <dir> <batchEventCountMax>
// for each build to compare. The log is written once (by this build's traffic writer), so every
// build folds the same events; CPU is this process's (the fold runs on its thread).
// FOLD_REPORTS=n (both steps, default 300) sets the log's reports; FOLD_WARM_REPORTS=w (fold)
// folds the first w reports unmeasured, so the rest updates users that exist (docs/benchmarks.md,
// "Traffic: the read side (branch tread)").
const { join } = require('node:path');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir, loadavg } = require('node:os');
const { randomInt } = require('node:crypto');
const [mode, a, b, c] = process.argv.slice(2);
const REPORTS = Number(process.env['FOLD_REPORTS'] ?? 300),
  RECORDS = 1000,
  USERS = 100_000;
const main = async () => {
  if (mode === 'write') {
    const dist = join(__dirname, '..', 'dist');
    const { createSqliteEventStore } = require(`${dist}/adapters/eventstore/sqlite.event-store`);
    const { createTrafficWriter } = require(`${dist}/domain/traffic/traffic-writer`);
    const { trafficShardOf } = require(`${dist}/domain/traffic/traffic.decider`);
    const { benchCommandContext } = require(`${dist}/bench/bench-context`);
    const store = createSqliteEventStore({ path: join(a, 'events.sqlite') });
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
    for (let report = 0; report < REPORTS; report += 1) {
      const byShard = new Map();
      const seen = new Set();
      for (let r = 0; r < RECORDS; r += 1) {
        const userId = `user-${randomInt(USERS)}`;
        if (seen.has(userId)) continue;
        seen.add(userId);
        const shard = trafficShardOf(userId);
        const usages = byShard.get(shard) ?? [];
        usages.push({
          userId,
          uploadBytes: 1 + randomInt(1_000_000),
          downloadBytes: randomInt(10_000_000),
        });
        byShard.set(shard, usages);
      }
      const now = new Date(1_800_000_000_000 + report * 1000).toISOString();
      const reply = await writer.execute({
        commands: [...byShard].map(([shardId, usages]) => ({
          shardId,
          command: {
            type: 'RecordUsage',
            data: { reportId: `r-${report}`, nodeId: `node-${report % 10}`, usages, now },
          },
          eventIdSeed: null,
        })),
        context: benchCommandContext('fold-bench', now),
        idempotency: null,
      });
      if (reply.kind !== 'decided') throw new Error(reply.kind);
    }
    await writer.close();
    await store.close();
    return;
  }
  const dist = a;
  const { createSqliteEventStore } = require(`${dist}/adapters/eventstore/sqlite.event-store`);
  const { createSqliteReadModelStore } = require(
    `${dist}/adapters/readmodels/sqlite.read-model-store`,
  );
  const { createProjectionRunner } = require(`${dist}/projections/projection-runner`);
  const { READ_MODELS, collectionIn, checkpointOf } = require(`${dist}/projections/read-models`);
  const { READ_SIDE_LIMITS } = require(`${dist}/bin/config`);
  const logPath = join(b, 'events.sqlite');
  // A build with the read side's own log reader (bin/read-side-log) folds through it, as its
  // worker does.
  let readSideLog = null;
  try {
    readSideLog = require(`${dist}/bin/read-side-log`).withReadSideLog;
  } catch {
    readSideLog = null;
  }
  const eventStore =
    readSideLog === null
      ? createSqliteEventStore({ path: logPath })
      : readSideLog(createSqliteEventStore({ path: logPath }), {
          path: logPath,
          pollMs: 250,
          externalAppends: null,
        });
  const dir = mkdtempSync(join(tmpdir(), 'fold-'));
  const store = createSqliteReadModelStore({ path: join(dir, 'read-models.sqlite') });
  for (const projection of READ_MODELS)
    for (const spec of projection.collections)
      await store.ensureCollection({ ...spec, name: collectionIn(spec.name, 1) });
  const runner = createProjectionRunner({
    eventStore,
    store,
    projections: READ_MODELS,
    collectionName: (n) => collectionIn(n, 1),
    checkpointName: checkpointOf(1),
    batchEventCountMax: Number(c),
    cachedDocumentCountMax: READ_SIDE_LIMITS.cachedDocumentCountMax ?? 0,
    // Builds before units ignore these two.
    unitMsMax: READ_SIDE_LIMITS.unitMsMax,
    unitDocumentCountMax: READ_SIDE_LIMITS.unitDocumentCountMax,
    onCommitted: () => undefined,
  });
  await runner.load();
  // FOLD_WARM_REPORTS=n folds the first n reports' events before measuring: the rest then updates
  // users that exist (the steady state of a service under reports) instead of inserting them.
  const warmReports = Number(process.env['FOLD_WARM_REPORTS'] ?? 0);
  const head = (await eventStore.headPosition()) ?? 0n;
  const warmUntil = (head * BigInt(warmReports)) / BigInt(REPORTS);
  if (warmUntil > 0n)
    await runner.catchUp({ untilPosition: warmUntil, untilTime: null }, () => undefined);
  const load = loadavg()[0];
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const events = await runner.catchUp({ untilPosition: null, untilTime: null }, () => undefined);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - started;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const count = await store.find(collectionIn('traffic', 1), {
    where: {},
    range: null,
    orderBy: { field: 'userId', direction: 'asc' },
    offset: 0,
    limit: 1,
  });
  console.log(
    JSON.stringify({
      dist,
      batch: Number(c),
      events,
      users: count.totalCount,
      cpuMs: Math.round(cpuMs),
      wallMs: Math.round(wallMs),
      cpuUsPerRecord: +((cpuMs * 1000) / ((REPORTS - warmReports) * RECORDS)).toFixed(2),
      load,
    }),
  );
  await store.close();
  await eventStore.close();
  rmSync(dir, { recursive: true, force: true });
};
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
