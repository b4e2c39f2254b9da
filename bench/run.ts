import { resolve } from 'node:path';
import { actorMemoryScenario } from './actor-memory.bench';
import { appendScenario } from './append-bench';
import { channelBenchScenarios } from './channels.bench';
import { installInterruptHandlers } from './cleanup';
import { coreChecks, coreRows } from './core-report';
import { coreScenarios } from './core.bench';
import { flashSaleScenario } from './flash-sale.bench';
import { governanceReadsScenario } from './governance-reads.bench';
import { trafficScenario } from './http-scenarios';
import { describeMachine, machineText, probeDiskCommitsPerS } from './machine';
import { nodesScenario } from './nodes.bench';
import { readSideScenarios } from './read-side.bench';
import {
  checksMarkdown,
  checksText,
  formatInteger,
  markdownTable,
  type Row,
  textTable,
} from './report';
import { creditBenchScenarios, relayBenchScenarios, sagaBenchScenarios } from './sagas.bench';
import { snapshotLoadScenarios } from './snapshot-load.bench';

/** Everything but the core scenarios: traffic, the store, cold loads, read side, sagas, actors. */
const otherScenarios = async (options: { cpuProfileDir: string | null }): Promise<Row[]> => {
  const rows: Row[] = [await trafficScenario(options), ...(await governanceReadsScenario(options))];
  process.stderr.write('  running event store appends\n');
  rows.push(await appendScenario(1), await appendScenario(10));
  process.stderr.write('  running cold loads of a hot account\n');
  rows.push(...(await snapshotLoadScenarios()));
  process.stderr.write('  running the read side, sagas and channels\n');
  rows.push(
    ...(await readSideScenarios()),
    ...(await sagaBenchScenarios(options)),
    ...(await channelBenchScenarios(options)),
  );
  process.stderr.write('  running 1,000,000 distinct actors (about a minute)\n');
  rows.push(await actorMemoryScenario());
  return rows;
};

/** The BENCH_ONLY values that run one group of rows and print them. */
const singleScenarios: Record<
  string,
  ((options: { cpuProfileDir: string | null }) => Promise<Row[]>) | undefined
> = {
  traffic: async (options) => [await trafficScenario(options)],
  sagas: sagaBenchScenarios,
  credit: creditBenchScenarios,
  relay: relayBenchScenarios,
  channels: channelBenchScenarios,
  governance: governanceReadsScenario,
};

/**
 * `npm run bench`: the built service as a child process on 127.0.0.1 under autocannon. First the
 * core scenarios, (a)-(d) of the atomic ledger on one service and bare Koa under (a)'s load, each
 * three trials of 10 s (median kept), every trial ending once the read side has caught up; then
 * traffic reports, the event store in-process, cold loads of a hot account, the read side, the
 * sagas with a real nats-server, the payment channels' callbacks and a million distinct actors.
 * BENCH_ONLY=core runs only the core scenarios, BENCH_ONLY=traffic only the traffic reports,
 * BENCH_ONLY=sagas only the sagas and relay, BENCH_ONLY=credit only callback → credit on both
 * buses, BENCH_ONLY=relay only the relay into JetStream, BENCH_ONLY=channels only the channel callbacks (WeChat v2, v3, sandbox), BENCH_ONLY=flash-sale only the flash sale (10,000
 * buyers on 100 units, bench/flash-sale.bench.ts), which the full run ends with, BENCH_ONLY=nodes
 * only the proxy-node lines (bench/nodes.bench.ts), which run before it, BENCH_ONLY=governance
 * only the governed reads (tokens and rate limits on, bench/governance-reads.bench.ts), which
 * run after the traffic reports. Temp data dirs go
 * to os.tmpdir() (TMPDIR).
 * BENCH_CPU_PROF_DIR=<dir> makes the service children write V8 CPU profiles there.
 */
const main = async (): Promise<void> => {
  installInterruptHandlers();
  const profileDir = process.env['BENCH_CPU_PROF_DIR']?.trim() ?? '';
  const options = { cpuProfileDir: profileDir === '' ? null : resolve(profileDir) };
  const machine = describeMachine();
  process.stderr.write(`${machineText(machine)}\n`);
  const diskBefore = probeDiskCommitsPerS();

  const only = process.env['BENCH_ONLY'] ?? '';
  const single = singleScenarios[only];
  if (single !== undefined) {
    printRows(machine, diskBefore, [], await single(options));
    return;
  }
  if (only === 'nodes') {
    const nodes = await nodesScenario(options);
    printRows(machine, diskBefore, nodes.checks, nodes.rows);
    return;
  }
  const core = only === 'flash-sale' ? null : await coreScenarios(options);
  const rows = core === null ? [] : coreRows(core);
  const all = only !== 'core' && only !== 'flash-sale';
  if (all) rows.push(...(await otherScenarios(options)));
  const nodes = all ? await nodesScenario(options) : null;
  rows.push(...(nodes?.rows ?? []));
  const sale = only === 'core' ? null : await flashSaleScenario(options);
  rows.push(...(sale?.rows ?? []));
  const checks = [
    ...(core === null ? [] : coreChecks(core)),
    ...(nodes?.checks ?? []),
    ...(sale?.checks ?? []),
  ];
  printRows(machine, diskBefore, checks, rows);
};

const printRows = (
  machine: ReturnType<typeof describeMachine>,
  diskBefore: number,
  checks: Parameters<typeof checksText>[0],
  rows: Row[],
): void => {
  const diskAfter = probeDiskCommitsPerS();

  const disk = `${formatInteger(diskBefore)} before, ${formatInteger(diskAfter)} after`;
  const output = [
    '',
    machineText(machine),
    `disk probe:   fsynced SQLite commits/s ${disk}`,
    '',
    checksText(checks),
    '',
    textTable(rows),
    '',
    'Markdown:',
    '',
    checksMarkdown(checks),
    '',
    markdownTable(rows),
    '',
  ];
  process.stdout.write(output.join('\n'));
};

main().catch((error: unknown) => {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`bench failed: ${detail}\n`);
  process.exit(1);
});
