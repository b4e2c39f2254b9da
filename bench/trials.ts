import { loadavg } from 'node:os';
import type { ProcessCpu } from './process-cpu';
import {
  commitCount,
  readSideLag,
  type ReadSideLag,
  type ServiceAccess,
  waitForReadSide,
} from './service-probe';

/** Each scenario runs this many trials in a row on the same service; the median is kept. */
export const TRIAL_COUNT = 3;
/** A trial ends once the read side has applied the whole log, or after this long. */
export const CATCH_UP_MS_MAX = 60_000;

export type ServiceUnderTest = ServiceAccess & { cpu: () => ProcessCpu | null };

/** What a trial's work did, as the scenario counts it. */
type TrialCounts = {
  /** Transfers the service ran: every request sent (a batch counts its transfers). */
  transferCount: number;
  /** Requests that ran commands: every one sent, answered before the load stopped or not. */
  requestCount: number;
  /** Transfers answered 2xx, per second of load. */
  transfersPerS: number;
  /** The figure trials are ranked by (throughput, or p99 for a fixed rate). */
  rank: number;
};

/**
 * One trial's cost to the service, per transfer: CPU of the whole process (every thread, from
 * /proc) from the load's start until the read side caught up, the same over the load alone, the
 * main (API) thread's share, and fsynced event-store commits per request.
 */
export type Trial<T> = {
  result: T;
  counts: TrialCounts;
  cpuUsPerTransfer: number | null;
  loadCpuUsPerTransfer: number | null;
  mainThreadUsPerTransfer: number | null;
  commitsPerRequest: number;
  /** fdatasyncs of the event store's WAL per request (one covers several commits). */
  syncsPerRequest: number;
  lagAtEnd: ReadSideLag;
  /** Ms from the load's end until the read side had applied the whole log; null: not in time. */
  catchUpMs: number | null;
};

export type Trials<T> = {
  median: Trial<T>;
  /** Every trial's rank figure, in the order run. */
  ranks: number[];
  /** The slowest catch-up of the trials; null when one did not catch up in time. */
  catchUpMsMax: number | null;
  /** The 1-minute load average after the last trial (the bench's own load included). */
  loadAverage: number;
};

const usPer = (ms: number | null, count: number): number | null =>
  ms === null || count === 0 ? null : (ms * 1000) / count;

const cpuMs = (
  before: ProcessCpu | null,
  after: ProcessCpu | null,
  part: keyof ProcessCpu,
): number | null => (before === null || after === null ? null : after[part] - before[part]);

const measureTrial = async <T>(
  service: ServiceUnderTest,
  work: () => Promise<T>,
  countsOf: (result: T) => TrialCounts,
): Promise<Trial<T>> => {
  const commitsBefore = await commitCount(service);
  const cpuBefore = service.cpu();
  const result = await work();
  const cpuAtLoadEnd = service.cpu();
  const lagAtEnd = await readSideLag(service);
  const catchUpMs = await waitForReadSide(service, CATCH_UP_MS_MAX);
  const cpuAfter = service.cpu();
  const commitsAfter = await commitCount(service);
  const commits = commitsAfter.commits - commitsBefore.commits;
  const syncs = commitsAfter.syncs - commitsBefore.syncs;
  const counts = countsOf(result);
  const { transferCount } = counts;
  return {
    result,
    counts,
    cpuUsPerTransfer: usPer(cpuMs(cpuBefore, cpuAfter, 'processMs'), transferCount),
    loadCpuUsPerTransfer: usPer(cpuMs(cpuBefore, cpuAtLoadEnd, 'processMs'), transferCount),
    mainThreadUsPerTransfer: usPer(cpuMs(cpuBefore, cpuAfter, 'mainThreadMs'), transferCount),
    commitsPerRequest: counts.requestCount === 0 ? 0 : commits / counts.requestCount,
    syncsPerRequest: counts.requestCount === 0 ? 0 : syncs / counts.requestCount,
    lagAtEnd,
    catchUpMs,
  };
};

/**
 * Runs `work` TRIAL_COUNT times and keeps the median trial by rank, so that one lucky or unlucky
 * trial does not make the figure. Each trial waits for the read side, so none starts on the
 * previous one's backlog, and the CPU the read side spends on a trial's transfers counts for it.
 */
export const runTrials = async <T>(
  service: ServiceUnderTest,
  work: () => Promise<T>,
  countsOf: (result: T) => TrialCounts,
): Promise<Trials<T>> => {
  const trials: Trial<T>[] = [];
  for (let index = 0; index < TRIAL_COUNT; index += 1)
    trials.push(await measureTrial(service, work, countsOf));
  const sorted = [...trials].sort((left, right) => left.counts.rank - right.counts.rank);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median === undefined) throw new Error('runTrials: no trial ran');
  const catchUps = trials.map((trial) => trial.catchUpMs);
  const caughtUp = catchUps.every((ms) => ms !== null);
  return {
    median,
    ranks: trials.map((trial) => trial.counts.rank),
    catchUpMsMax: caughtUp ? Math.max(...catchUps.map((ms) => ms ?? 0)) : null,
    loadAverage: loadavg()[0] ?? 0,
  };
};
