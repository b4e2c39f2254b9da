import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type ChildServer, startChildServer } from './child-server';
import { onInterrupt } from './cleanup';
import { cpuPerRequestNote } from './process-cpu';
import { type LoadFigures, type LoadSpec, postCommand, runBounded, runLoad } from './load';
import { failedStatuses, formatInteger, type Row } from './report';
import {
  ACCOUNT_COUNT,
  accountId,
  CURRENCY,
  HOT_ACCOUNT_ID,
  RECORDS_PER_REPORT,
  randomPairBodies,
  reportBodies,
  transferBodies,
} from './request-bodies';

const SETUP_CONCURRENCY = 32;
const CONNECTIONS = 64;
/** Fewer connections for reports: each one fans out to ~1,000 appends in the service. */
const REPORT_CONNECTIONS = 8;
const DURATION_S = 10;
const FIXED_RATE_PER_S = 2_000;

/** Where the compiled service and baseline live, relative to dist/bench/. */
const LEDGER_SCRIPT = join(__dirname, '..', 'bin', 'ledger.js');
const BARE_SCRIPT = join(__dirname, 'bare-koa.js');

export type HttpBenchOptions = {
  /** When set, the service children run with --cpu-prof and write their profiles here. */
  cpuProfileDir: string | null;
};

/** A server that stops (and loses its temp dir) even if the bench is interrupted. */
const withServer = async <T>(
  start: () => Promise<ChildServer>,
  work: (server: ChildServer) => Promise<T>,
): Promise<T> => {
  const server = await start();
  const unregister = onInterrupt(server.stop);
  try {
    return await work(server);
  } finally {
    unregister();
    await server.stop();
  }
};

const startLedger = (apiKey: string, options: HttpBenchOptions) => () =>
  startChildServer({
    script: LEDGER_SCRIPT,
    args: ['serve'],
    env: { LEDGER_ADMIN_API_KEY: apiKey, LOG_LEVEL: 'warn', MAILBOX_DEPTH_MAX: '100000' },
    nodeFlags:
      options.cpuProfileDir === null
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`],
  });

const newApiKey = (): string => randomBytes(24).toString('base64url');

/** Each HTTP load runs this many times in a row on the same service; the median trial is kept. */
const TRIAL_COUNT = 3;

type Measured = { figures: LoadFigures; cpuNote: string; trialsNote: string };

/**
 * Runs a load TRIAL_COUNT times and keeps the median trial by `rank` (throughput, or p99 for a
 * fixed rate), noting every trial's figure and the kept trial's service CPU per request (less
 * noisy than throughput), so one lucky or unlucky ten seconds does not make the figure.
 */
const runTrials = async (
  server: ChildServer,
  spec: LoadSpec,
  rank: { name: string; of: (figures: LoadFigures) => number },
  unit = 'request',
): Promise<Measured> => {
  const trials: { figures: LoadFigures; cpuNote: string }[] = [];
  for (let trial = 0; trial < TRIAL_COUNT; trial += 1) {
    const before = server.cpu();
    const figures = await runLoad(spec);
    trials.push({
      figures,
      cpuNote: cpuPerRequestNote(before, server.cpu(), figures.requests, unit),
    });
  }
  const sorted = [...trials].sort((left, right) => rank.of(left.figures) - rank.of(right.figures));
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median === undefined) throw new Error('runTrials: no trial ran');
  const each = trials.map((trial) => formatInteger(rank.of(trial.figures))).join(', ');
  const trialsNote = `median of ${TRIAL_COUNT} trials by ${rank.name} (${each})`;
  return { figures: median.figures, cpuNote: median.cpuNote, trialsNote };
};

const byThroughput = (unitPerS: string) => ({
  name: unitPerS,
  of: (figures: LoadFigures) => figures.throughputPerS,
});
const byP99 = { name: 'p99 ms', of: (figures: LoadFigures) => figures.p99Ms };

const joinNotes = (...notes: readonly string[]): string =>
  notes.filter((note) => note !== '').join('; ');

/** 10,000 accounts plus the hot one, all with constraint 'none' so no funding is needed. */
const openAccounts = async (server: ChildServer, apiKey: string): Promise<void> => {
  const open = (id: string) =>
    postCommand(server.baseUrl, apiKey, '/v1/accounts', {
      accountId: id,
      currency: CURRENCY,
      constraint: 'none',
    });
  const startedMs = Date.now();
  await runBounded(ACCOUNT_COUNT, SETUP_CONCURRENCY, (index) => open(accountId(index)));
  await open(HOT_ACCOUNT_ID);
  const elapsedMs = Date.now() - startedMs;
  process.stderr.write(`  setup: ${ACCOUNT_COUNT + 1} accounts opened in ${elapsedMs} ms\n`);
};

type Judgement = { target: string; met: boolean; note?: string };

const row = (scenario: string, figures: LoadFigures, judged: Judgement): Row => ({
  scenario,
  requests: figures.requests,
  throughputPerS: figures.throughputPerS,
  unit: 'req/s',
  p50Ms: figures.p50Ms,
  p99Ms: figures.p99Ms,
  errors: figures.errors,
  non2xx: figures.non2xx,
  target: judged.target,
  met: judged.met,
  note: [judged.note ?? '', failedStatuses(figures.statusCounts)]
    .filter((part) => part !== '')
    .join('; '),
});

const announce = (scenario: string): void => {
  process.stderr.write(`  running ${scenario}\n`);
};

/** (a), (a') and (b) against one service holding 10,000 accounts; (a) is returned for the ratio. */
export const transferScenarios = async (
  options: HttpBenchOptions,
): Promise<{ rows: Row[]; maxRate: LoadFigures }> => {
  const apiKey = newApiKey();
  return withServer(startLedger(apiKey, options), async (server) => {
    await openAccounts(server, apiKey);
    const load: LoadSpec = {
      baseUrl: server.baseUrl,
      path: '/v1/transfers',
      apiKey,
      connections: CONNECTIONS,
      durationS: DURATION_S,
      nextBody: randomPairBodies,
    };
    announce('(a) transfers at max rate');
    const maxRate = await runTrials(server, load, byThroughput('req/s'));
    announce(`(a') transfers at ${FIXED_RATE_PER_S}/s`);
    const fixed = await runTrials(server, { ...load, overallRate: FIXED_RATE_PER_S }, byP99);
    announce('(b) transfers from one hot account');
    const hotLoad = { ...load, nextBody: transferBodies(() => HOT_ACCOUNT_ID) };
    const hot = await runTrials(server, hotLoad, byThroughput('req/s'));
    const rows = [
      row('(a) transfers, 10k accounts, max rate', maxRate.figures, {
        target: '≥ 5,000 req/s',
        met: maxRate.figures.throughputPerS >= 5_000,
        note: joinNotes(maxRate.trialsNote, maxRate.cpuNote),
      }),
      row(`(a') transfers at ${formatInteger(FIXED_RATE_PER_S)}/s`, fixed.figures, {
        target: 'p99 ≤ 25 ms',
        met: fixed.figures.p99Ms <= 25 && fixed.figures.throughputPerS >= FIXED_RATE_PER_S * 0.95,
        note: joinNotes(
          `rate asked ${formatInteger(FIXED_RATE_PER_S)}/s`,
          fixed.trialsNote,
          fixed.cpuNote,
        ),
      }),
      row('(b) transfers from one hot account', hot.figures, {
        target: '≥ 3,000 req/s',
        met: hot.figures.throughputPerS >= 3_000,
        note: joinNotes(hot.trialsNote, hot.cpuNote),
      }),
    ];
    return { rows, maxRate: maxRate.figures };
  });
};

/** (a-bare): the same load and bodies against bare Koa; judged on (a)/bare throughput. */
export const bareScenario = async (service: LoadFigures): Promise<Row> => {
  const start = () => startChildServer({ script: BARE_SCRIPT, args: [], env: {}, nodeFlags: [] });
  return withServer(start, async (server) => {
    announce('(a-bare) bare Koa, same load');
    const bare = await runLoad({
      baseUrl: server.baseUrl,
      path: '/v1/transfers',
      apiKey: newApiKey(),
      connections: CONNECTIONS,
      durationS: DURATION_S,
      nextBody: randomPairBodies,
    });
    const ratio = service.throughputPerS / bare.throughputPerS;
    return row('(a-bare) bare Koa, same load as (a)', bare, {
      target: 'ratio (a)/bare ≥ 0.4',
      met: ratio >= 0.4,
      note: `ratio (a)/bare = ${ratio.toFixed(2)}`,
    });
  });
};

/** (c) traffic reports of 1,000 records for random users among 100,000, on a fresh service. */
export const trafficScenario = async (options: HttpBenchOptions): Promise<Row> => {
  const apiKey = newApiKey();
  return withServer(startLedger(apiKey, options), async (server) => {
    announce('(c) traffic reports of 1,000 records');
    const reportLoad: LoadSpec = {
      baseUrl: server.baseUrl,
      path: '/v1/traffic/reports',
      apiKey,
      connections: REPORT_CONNECTIONS,
      durationS: DURATION_S,
      nextBody: reportBodies,
    };
    const measured = await runTrials(server, reportLoad, byThroughput('reports/s'), 'report');
    const reports = measured.figures;
    const recordsPerS = reports.throughputPerS * RECORDS_PER_REPORT;
    const judged = row('(c) traffic reports × 1,000 records', reports, {
      target: '≥ 200,000 records/s',
      met: recordsPerS >= 200_000,
      note: joinNotes(
        `${formatInteger(reports.throughputPerS)} reports/s, ${REPORT_CONNECTIONS} connections`,
        measured.trialsNote,
        measured.cpuNote,
      ),
    });
    return { ...judged, throughputPerS: recordsPerS, unit: 'records/s' };
  });
};
