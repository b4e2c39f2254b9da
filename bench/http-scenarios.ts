import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { READ_SIDE_LIMITS } from '../bin/config';
import { type ChildServer, startChildServer } from './child-server';
import { onInterrupt } from './cleanup';
import { type LoadFigures, postCommand, runBounded, runLoad } from './load';
import { failedStatuses, formatInteger, type Row } from './report';
import {
  ACCOUNT_COUNT,
  accountId,
  CURRENCY,
  HOT_ACCOUNT_ID,
  RECORDS_PER_REPORT,
  reportBodies,
} from './request-bodies';
import {
  CATCH_UP_MS_MAX,
  runTrials,
  type ServiceUnderTest,
  type Trials,
  TRIAL_COUNT,
} from './trials';

const SETUP_CONCURRENCY = 32;
/** Fewer connections for reports: each one fans out to ~1,000 appends in the service. */
const REPORT_CONNECTIONS = 8;
export const DURATION_S = 10;

/** Where the compiled service and baseline live, relative to dist/bench/. */
const LEDGER_SCRIPT = join(__dirname, '..', 'bin', 'ledger.js');
export const BARE_SCRIPT = join(__dirname, 'bare-koa.js');

export type HttpBenchOptions = {
  /** When set, the service children run with --cpu-prof and write their profiles here. */
  cpuProfileDir: string | null;
};

/** A server that stops (and loses its temp dir) even if the bench is interrupted. */
export const withServer = async <T>(
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

/** A test-mode admin key (`lsk_test_`): the benches pay through the sandbox, which live keys never reach. */
export const newApiKey = (): string => `lsk_test_${randomBytes(24).toString('base64url')}`;

/** The built service on a fresh data dir, with a fresh admin key; `work` gets both. */
export const withLedger = <T>(
  options: HttpBenchOptions & { dataDir?: string; readyTimeoutMs?: number },
  work: (service: ServiceUnderTest) => Promise<T>,
): Promise<T> => {
  const apiKey = newApiKey();
  const start = () =>
    startChildServer({
      script: LEDGER_SCRIPT,
      args: ['serve'],
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
      env: { LEDGER_ADMIN_API_KEY: apiKey, LOG_LEVEL: 'warn', MAILBOX_DEPTH_MAX: '100000' },
      nodeFlags:
        options.cpuProfileDir === null
          ? []
          : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`],
    });
  return withServer(start, (server) =>
    work({ baseUrl: server.baseUrl, apiKey, cpu: () => server.cpu() }),
  );
};

/** 10,000 accounts plus the hot one, all with constraint 'none' so no funding is needed. */
export const openAccounts = async (service: ServiceUnderTest): Promise<void> => {
  const open = (id: string) =>
    postCommand(service.baseUrl, service.apiKey, '/v1/accounts', {
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

export const announce = (scenario: string): void => {
  process.stderr.write(`  running ${scenario}\n`);
};

const usText = (us: number | null): string => (us === null ? '?' : formatInteger(us));

/** The service counts the events behind up to a bound: at the bound, there may be more. */
const eventsBehindText = (count: number): string =>
  `${count >= READ_SIDE_LIMITS.lagEventCountMax ? '≥ ' : ''}${formatInteger(count)}`;

/** The figures every measured scenario notes: trials, CPU, commits, the read side, the load. */
export const trialsNote = (
  trials: Trials<unknown>,
  rankName: string,
  unit = 'transfer',
): string => {
  const { median } = trials;
  const ranks = trials.ranks.map(formatInteger).join(', ');
  const caughtUp =
    trials.catchUpMsMax === null
      ? `NOT caught up within ${CATCH_UP_MS_MAX / 1000} s of a trial`
      : `caught up ≤ ${(trials.catchUpMsMax / 1000).toFixed(1)} s after each trial`;
  return [
    `median of ${TRIAL_COUNT} trials by ${rankName} (${ranks})`,
    `service CPU ${usText(median.cpuUsPerTransfer)} µs/${unit} until the read side caught up ` +
      `(${usText(median.loadCpuUsPerTransfer)} during the load; API thread ` +
      `${usText(median.mainThreadUsPerTransfer)})`,
    `${median.commitsPerRequest.toFixed(3)} event-store commits/request ` +
      `(${median.syncsPerRequest.toFixed(3)} WAL fdatasyncs)`,
    `read side ${eventsBehindText(median.lagAtEnd.eventsBehind)} events ` +
      `(${formatInteger(median.lagAtEnd.msBehind)} ms) behind at the load's end, ${caughtUp}`,
    `load average ${trials.loadAverage.toFixed(2)}`,
  ].join('; ');
};

export const loadRow = (
  scenario: string,
  figures: LoadFigures,
  judged: { target: string; met: boolean | null; note: string },
): Row => ({
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
  note: [judged.note, failedStatuses(figures.statusCounts)]
    .filter((part) => part !== '')
    .join('; '),
});

/** Traffic reports of 1,000 records for random users among 100,000, on a fresh service. */
export const trafficScenario = (options: HttpBenchOptions): Promise<Row> =>
  withLedger(options, async (service) => {
    announce('traffic reports of 1,000 records');
    const load = {
      baseUrl: service.baseUrl,
      path: '/v1/traffic/reports',
      apiKey: service.apiKey,
      connections: REPORT_CONNECTIONS,
      durationS: DURATION_S,
      nextBody: reportBodies,
    };
    const trials = await runTrials(
      service,
      () => runLoad(load),
      (figures) => ({
        transferCount: figures.sentCount,
        requestCount: figures.sentCount,
        transfersPerS: figures.throughputPerS,
        rank: figures.throughputPerS,
      }),
    );
    const reports = trials.median.result;
    const recordsPerS = reports.throughputPerS * RECORDS_PER_REPORT;
    // Issue #14's line: throughput and the service's CPU per record (every thread, read side
    // caught up), both.
    const cpuUsPerRecord =
      trials.median.cpuUsPerTransfer === null
        ? null
        : trials.median.cpuUsPerTransfer / RECORDS_PER_REPORT;
    const judged = loadRow('traffic reports × 1,000 records', reports, {
      target: '≥ 250,000 records/s, ≤ 4 µs CPU/record',
      met: recordsPerS >= 250_000 && cpuUsPerRecord !== null && cpuUsPerRecord <= 4,
      note: [
        `${formatInteger(reports.throughputPerS)} reports/s, ${REPORT_CONNECTIONS} connections`,
        `${cpuUsPerRecord === null ? '-' : cpuUsPerRecord.toFixed(1)} µs CPU/record`,
        trialsNote(trials, 'reports/s', 'report'),
      ].join('; '),
    });
    return { ...judged, throughputPerS: recordsPerS, unit: 'records/s' };
  });
