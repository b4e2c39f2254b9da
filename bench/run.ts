import { resolve } from 'node:path';
import { actorMemoryScenario } from './actor-memory.bench';
import { appendScenario } from './append-bench';
import { channelBenchScenarios } from './channels.bench';
import { installInterruptHandlers } from './cleanup';
import { bareScenario, trafficScenario, transferScenarios } from './http-scenarios';
import { describeMachine, machineText, probeDiskCommitsPerS } from './machine';
import { readSideScenarios } from './read-side.bench';
import { formatInteger, markdownTable, type Row, textTable } from './report';
import { sagaBenchScenarios } from './sagas.bench';
import { snapshotLoadScenarios } from './snapshot-load.bench';

/**
 * `npm run bench`: the service as a child process on 127.0.0.1 under autocannon, a bare Koa
 * baseline, the event store in-process, cold loads of a hot account, then the read side, the
 * sagas with a real nats-server, the payment channels' callbacks and a million distinct actors.
 * Bounded: three trials of 10 s per command-side HTTP scenario (the median kept), 5 s per store
 * scenario, about a minute for the million actors. BENCH_ONLY=core runs only the command-side scenarios (a)-(e). Temp data dirs go to
 * os.tmpdir() (TMPDIR). BENCH_CPU_PROF_DIR=<dir> makes the service children write V8 CPU
 * profiles there.
 */
const main = async (): Promise<void> => {
  installInterruptHandlers();
  const profileDir = process.env['BENCH_CPU_PROF_DIR']?.trim() ?? '';
  const options = { cpuProfileDir: profileDir === '' ? null : resolve(profileDir) };
  const machine = describeMachine();
  process.stderr.write(`${machineText(machine)}\n`);
  const diskBefore = probeDiskCommitsPerS();

  const transfers = await transferScenarios(options);
  const bare = await bareScenario(transfers.maxRate);
  const traffic = await trafficScenario(options);
  process.stderr.write('  running (d) event store appends\n');
  const single = await appendScenario(1);
  const batched = await appendScenario(10);
  process.stderr.write('  running (e) cold loads of a hot account\n');
  const coldLoads = await snapshotLoadScenarios();
  const rows: Row[] = [...transfers.rows, bare, traffic, single, batched, ...coldLoads];
  if (process.env['BENCH_ONLY'] !== 'core') {
    process.stderr.write('  running the read side, sagas and channels\n');
    rows.push(
      ...(await readSideScenarios()),
      ...(await sagaBenchScenarios()),
      ...(await channelBenchScenarios()),
    );
    process.stderr.write('  running (f) 1,000,000 distinct actors (about a minute)\n');
    rows.push(await actorMemoryScenario());
  }
  const diskAfter = probeDiskCommitsPerS();

  const disk = `${formatInteger(diskBefore)} before, ${formatInteger(diskAfter)} after`;
  const output = [
    '',
    machineText(machine),
    `disk probe:   fsynced SQLite commits/s ${disk}`,
    '',
    textTable(rows),
    '',
    'Markdown:',
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
