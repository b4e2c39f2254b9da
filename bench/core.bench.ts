import { v7 as uuidv7 } from 'uuid';
import { startChildServer } from './child-server';
import {
  announce,
  BARE_SCRIPT,
  DURATION_S,
  type HttpBenchOptions,
  newApiKey,
  openAccounts,
  withLedger,
  withServer,
} from './http-scenarios';
import { type LoadFigures, type LoadSpec, runLoad } from './load';
import { cpuPerRequestNote } from './process-cpu';
import { lagTrial, type LagTrial, quantile } from './read-side-lag.bench';
import { batchBodies, HOT_ACCOUNT_ID, randomPairBodies, transferBodies } from './request-bodies';
import { runTrials, type ServiceUnderTest, type Trials, TRIAL_COUNT } from './trials';

const CONNECTIONS = 64;
/** Each batch request carries 1,000 transfers: a few in flight keep the ledger's batches full. */
const BATCH_CONNECTIONS = 8;
export const BATCH_TRANSFER_COUNT = 1_000;
export const FIXED_RATE_PER_S = 2_000;

/** What the four scenarios of the atomic-ledger issue measured, and bare Koa beside them. */
export type CoreFigures = {
  uniform: Trials<LoadFigures>;
  hot: Trials<LoadFigures>;
  batch: Trials<LoadFigures>;
  lag: Trials<LagTrial>;
  bare: { median: LoadFigures; ranks: number[]; cpuNote: string };
};

const perRequest = (figures: LoadFigures) => ({
  transferCount: figures.sentCount,
  requestCount: figures.sentCount,
  transfersPerS: figures.throughputPerS,
  rank: figures.throughputPerS,
});

const perBatch = (figures: LoadFigures) => ({
  transferCount: figures.sentCount * BATCH_TRANSFER_COUNT,
  requestCount: figures.sentCount,
  transfersPerS: figures.throughputPerS * BATCH_TRANSFER_COUNT,
  rank: figures.throughputPerS * BATCH_TRANSFER_COUNT,
});

const perLagTrial = (trial: LagTrial) => ({
  transferCount: trial.load.sentCount + trial.probeCount,
  requestCount: trial.load.sentCount + trial.probeCount,
  transfersPerS: trial.load.throughputPerS,
  rank: quantile(trial.visibleMs, 0.99),
});

/** One batch posted before the load: the load generator cannot see refusals inside a 200. */
const checkBatchAnswer = async (service: ServiceUnderTest): Promise<void> => {
  const response = await fetch(`${service.baseUrl}/v1/transfers/batch`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${service.apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': uuidv7(),
    },
    body: batchBodies(BATCH_TRANSFER_COUNT)(),
  });
  const body = (await response.json()) as { data?: { results?: unknown[]; refusedCount?: number } };
  const created = body.data?.results?.length ?? 0;
  if (response.status !== 200 || created !== BATCH_TRANSFER_COUNT || body.data?.refusedCount !== 0)
    throw new Error(`POST /v1/transfers/batch: ${response.status} ${JSON.stringify(body.data)}`);
};

const commandSide = (options: HttpBenchOptions) =>
  withLedger(options, async (service) => {
    await openAccounts(service);
    const load: LoadSpec = {
      baseUrl: service.baseUrl,
      path: '/v1/transfers',
      apiKey: service.apiKey,
      connections: CONNECTIONS,
      durationS: DURATION_S,
      nextBody: randomPairBodies,
    };
    announce('(a) single transfers across 10,000 accounts, max rate');
    const uniform = await runTrials(service, () => runLoad(load), perRequest);
    announce('(b) single transfers from one hot account, max rate');
    const hotLoad = { ...load, nextBody: transferBodies(() => HOT_ACCOUNT_ID) };
    const hot = await runTrials(service, () => runLoad(hotLoad), perRequest);
    announce(`(c) batches of ${BATCH_TRANSFER_COUNT} transfers, max rate`);
    await checkBatchAnswer(service);
    const batchLoad = {
      ...load,
      path: '/v1/transfers/batch',
      connections: BATCH_CONNECTIONS,
      nextBody: batchBodies(BATCH_TRANSFER_COUNT),
    };
    const batch = await runTrials(service, () => runLoad(batchLoad), perBatch);
    announce(`(d) read-side lag at ${FIXED_RATE_PER_S} transfers/s`);
    const fixedLoad = { ...load, overallRate: FIXED_RATE_PER_S };
    const lag = await runTrials(service, () => lagTrial(service, fixedLoad), perLagTrial);
    return { uniform, hot, batch, lag };
  });

/** Koa + @koa/router reading and parsing the same bodies as (a): the ratio's denominator. */
const bareKoa = () =>
  withServer(
    () => startChildServer({ script: BARE_SCRIPT, args: [], env: {}, nodeFlags: [] }),
    async (server) => {
      announce('bare Koa, the same load as (a)');
      const trials: { figures: LoadFigures; cpuNote: string }[] = [];
      for (let index = 0; index < TRIAL_COUNT; index += 1) {
        const before = server.cpu();
        const figures = await runLoad({
          baseUrl: server.baseUrl,
          path: '/v1/transfers',
          apiKey: newApiKey(),
          connections: CONNECTIONS,
          durationS: DURATION_S,
          nextBody: randomPairBodies,
        });
        trials.push({
          figures,
          cpuNote: cpuPerRequestNote(before, server.cpu(), figures.sentCount),
        });
      }
      const sorted = [...trials].sort(
        (left, right) => left.figures.throughputPerS - right.figures.throughputPerS,
      );
      const median = sorted[Math.floor(sorted.length / 2)];
      if (median === undefined) throw new Error('bareKoa: no trial ran');
      const ranks = trials.map((trial) => trial.figures.throughputPerS);
      return { median: median.figures, ranks, cpuNote: median.cpuNote };
    },
  );

/** (a)-(d) on one service holding 10,001 accounts, then bare Koa under (a)'s load. */
export const coreScenarios = async (options: HttpBenchOptions): Promise<CoreFigures> => {
  const measured = await commandSide(options);
  return { ...measured, bare: await bareKoa() };
};
