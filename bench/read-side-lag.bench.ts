import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import { type LoadFigures, type LoadSpec, runLoad } from './load';
import { randomPairBodies } from './request-bodies';
import { readSideLag, type ServiceAccess } from './service-probe';

/**
 * (d) Read-side lag while the API takes transfers at a fixed rate (2,000/s, target p99 ≤ 100 ms),
 * measured end to end as write-to-visible latency: every PROBE_INTERVAL_MS a probe posts one more
 * transfer, takes the `position` of its response and asks GET /v1/transfers?after=<position>,
 * which answers once the projection has passed that position (or 409 after 2 s). The time from
 * the POST's answer to the GET's is what a client doing read-your-writes waits. The lag the
 * service reports (GET /v1/audit/read-side, ms behind the head) is sampled beside it.
 */
const PROBE_INTERVAL_MS = 50;
const LAG_SAMPLE_INTERVAL_MS = 100;

export type LagTrial = {
  load: LoadFigures;
  /** Write-to-visible ms of each successful probe, sorted. */
  visibleMs: number[];
  /** Probes made: each POSTed one transfer. */
  probeCount: number;
  probeFailureCount: number;
  /** The largest `lag.msBehind` the service reported while sampled. */
  reportedMsBehindMax: number;
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One write then one read-your-writes query; the ms between the two answers, or null on failure. */
const probeOnce = async (service: ServiceAccess): Promise<number | null> => {
  const headers = { authorization: `Bearer ${service.apiKey}`, 'content-type': 'application/json' };
  const posted = await fetch(`${service.baseUrl}/v1/transfers`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': uuidv7() },
    body: randomPairBodies(),
  });
  const body = (await posted.json()) as { data?: { position?: unknown } };
  const position = body.data?.position;
  if (!posted.ok || typeof position !== 'string') return null;
  const writtenMs = performance.now();
  const path = `/v1/transfers?page_size=1&after=${position}`;
  const read = await fetch(`${service.baseUrl}${path}`, { headers });
  await read.arrayBuffer();
  return read.ok ? performance.now() - writtenMs : null;
};

const probeUntil = async (service: ServiceAccess, untilMs: number) => {
  const visibleMs: number[] = [];
  let failureCount = 0;
  while (performance.now() < untilMs) {
    const startedMs = performance.now();
    const ms = await probeOnce(service).catch(() => null);
    if (ms === null) failureCount += 1;
    else visibleMs.push(ms);
    await sleep(Math.max(0, PROBE_INTERVAL_MS - (performance.now() - startedMs)));
  }
  return { visibleMs, failureCount };
};

const sampleLagUntil = async (service: ServiceAccess, untilMs: number): Promise<number> => {
  let msBehindMax = 0;
  while (performance.now() < untilMs) {
    const lag = await readSideLag(service).catch(() => null);
    msBehindMax = Math.max(msBehindMax, lag?.msBehind ?? 0);
    await sleep(LAG_SAMPLE_INTERVAL_MS);
  }
  return msBehindMax;
};

export const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** The fixed-rate load (its overallRate set), probed and sampled for as long as it runs. */
export const lagTrial = async (service: ServiceAccess, load: LoadSpec): Promise<LagTrial> => {
  const untilMs = performance.now() + load.durationS * 1000;
  const [figures, probe, reportedMsBehindMax] = await Promise.all([
    runLoad(load),
    probeUntil(service, untilMs),
    sampleLagUntil(service, untilMs),
  ]);
  return {
    load: figures,
    visibleMs: [...probe.visibleMs].sort((left, right) => left - right),
    probeCount: probe.visibleMs.length + probe.failureCount,
    probeFailureCount: probe.failureCount,
    reportedMsBehindMax,
  };
};
