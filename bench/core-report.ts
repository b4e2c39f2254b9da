import { BATCH_TRANSFER_COUNT, type CoreFigures, FIXED_RATE_PER_S } from './core.bench';
import { loadRow, trialsNote } from './http-scenarios';
import { type LagTrial, quantile } from './read-side-lag.bench';
import { type Check, formatInteger, type Row } from './report';
import { CATCH_UP_MS_MAX, type Trials } from './trials';

const rateOf = ({ median }: Trials<unknown>): number => median.counts.transfersPerS;
const perS = (value: number): string => `${formatInteger(value)}/s`;

/** Whether the read side had applied the whole log within CATCH_UP_MS_MAX of every trial. */
const caughtUpCheck = (scenario: string, { catchUpMsMax }: Trials<unknown>): Check => ({
  scenario,
  measure: 'read side caught up after each trial',
  figure:
    catchUpMsMax === null
      ? `not within ${CATCH_UP_MS_MAX / 1000} s`
      : `${(catchUpMsMax / 1000).toFixed(1)} s after the load`,
  target: 'caught up by the end',
  met: catchUpMsMax !== null,
});

/** What a scenario at its maximum rate costs: CPU and commits, then the read side. */
const costChecks = (scenario: string, trials: Trials<unknown>, cpuUsMax: number | null) => {
  const { cpuUsPerTransfer, commitsPerRequest } = trials.median;
  const cpu: Check = {
    scenario,
    measure: 'service CPU per transfer (all threads, read side included)',
    figure: cpuUsPerTransfer === null ? '?' : `${formatInteger(cpuUsPerTransfer)} µs`,
    target: cpuUsMax === null ? '-' : `≤ ${formatInteger(cpuUsMax)} µs`,
    met: cpuUsMax === null || cpuUsPerTransfer === null ? null : cpuUsPerTransfer <= cpuUsMax,
  };
  const commits: Check = {
    scenario,
    measure: 'fsynced event-store commits per request',
    figure: commitsPerRequest.toFixed(3),
    target: '1 durable round per request (≤ 1)',
    met: commitsPerRequest <= 1,
  };
  return [cpu, commits, caughtUpCheck(scenario, trials)];
};

/** (d) holds when the p99 is in bounds at (nearly) the rate asked, and no probe failed. */
const lagMet = ({ median }: Trials<LagTrial>): boolean =>
  quantile(median.result.visibleMs, 0.99) <= 100 &&
  median.result.load.throughputPerS >= FIXED_RATE_PER_S * 0.95 &&
  median.result.probeFailureCount === 0;

/** Every figure the issue names, beside its target. */
export const coreChecks = ({ uniform, hot, batch, lag, bare }: CoreFigures): Check[] => {
  const [a, b, c, d] = ['(a) single', '(b) hot account', '(c) batch ×1,000', '(d) read side'];
  const bareRatio = rateOf(uniform) / bare.median.throughputPerS;
  const hotRatio = rateOf(hot) / rateOf(uniform);
  const lagP99Ms = quantile(lag.median.result.visibleMs, 0.99);
  const lagRate = lag.median.result.load.throughputPerS;
  const check = (
    scenario: string,
    measure: string,
    figure: string,
    target: string,
    met: boolean,
  ): Check => ({ scenario, measure, figure, target, met });
  return [
    check(a, 'transfers/s', perS(rateOf(uniform)), '≥ 5,000/s', rateOf(uniform) >= 5_000),
    check(
      a,
      'transfers/s ÷ bare Koa POST req/s (same run)',
      `${bareRatio.toFixed(2)} (bare ${perS(bare.median.throughputPerS)})`,
      '≥ 0.4',
      bareRatio >= 0.4,
    ),
    ...costChecks(a, uniform, 250),
    check(
      b,
      'transfers/s ÷ (a)',
      `${hotRatio.toFixed(2)} (${perS(rateOf(hot))})`,
      '≥ 0.8',
      hotRatio >= 0.8,
    ),
    ...costChecks(b, hot, null),
    check(c, 'transfers/s', perS(rateOf(batch)), '≥ 25,000/s', rateOf(batch) >= 25_000),
    ...costChecks(c, batch, 40),
    check(
      d,
      `write-to-visible p99 at ${perS(FIXED_RATE_PER_S)}`,
      `${lagP99Ms.toFixed(1)} ms at ${perS(lagRate)}`,
      '≤ 100 ms',
      lagMet(lag),
    ),
    caughtUpCheck(d, lag),
  ];
};

const untargeted = { target: '', met: null };

/** The results table's lines for (a)-(d) and bare Koa; the checks above carry the verdicts. */
export const coreRows = ({ uniform, hot, batch, lag, bare }: CoreFigures): Row[] => {
  const batchLoad = batch.median.result;
  const lagTrial = lag.median.result;
  const lagNote = [
    `write-to-visible over ${lagTrial.visibleMs.length} probes (${lagTrial.probeFailureCount} failed)`,
    `writes p50 ${lagTrial.load.p50Ms} ms, p99 ${lagTrial.load.p99Ms} ms`,
    `reported lag max ${formatInteger(lagTrial.reportedMsBehindMax)} ms`,
    trialsNote(lag, 'p99 ms'),
  ].join('; ');
  const batchRow = loadRow(`(c) batches of ${formatInteger(BATCH_TRANSFER_COUNT)}`, batchLoad, {
    ...untargeted,
    note: `${formatInteger(batchLoad.throughputPerS)} req/s; ${trialsNote(batch, 'transfers/s')}`,
  });
  const bareRanks = bare.ranks.map(formatInteger).join(', ');
  return [
    loadRow('(a) single transfers, 10k accounts', uniform.median.result, {
      ...untargeted,
      note: trialsNote(uniform, 'req/s'),
    }),
    loadRow('(b) single transfers, one hot account', hot.median.result, {
      ...untargeted,
      note: trialsNote(hot, 'req/s'),
    }),
    { ...batchRow, throughputPerS: rateOf(batch), unit: 'transfers/s' },
    {
      ...loadRow(`(d) read side at ${formatInteger(FIXED_RATE_PER_S)} transfers/s`, lagTrial.load, {
        ...untargeted,
        note: lagNote,
      }),
      p50Ms: quantile(lagTrial.visibleMs, 0.5),
      p99Ms: quantile(lagTrial.visibleMs, 0.99),
    },
    loadRow('bare Koa POST, the same load as (a)', bare.median, {
      ...untargeted,
      note: `median of 3 trials by req/s (${bareRanks}); ${bare.cpuNote}`,
    }),
  ];
};
