import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import { startChildServer } from './child-server';
import { onInterrupt } from './cleanup';
import { postCommand, runBounded, runLoad } from './load';
import { failedStatuses, type Row } from './report';
import { ACCOUNT_COUNT, accountId, CURRENCY, randomPairBodies } from './request-bodies';

/**
 * Read-side lag while the API takes 2,000 transfers/s (target p99 ≤ 100 ms), measured end to
 * end as write-to-visible latency: every PROBE_INTERVAL_MS a probe posts one more transfer, takes
 * the `position` of its response and asks GET /v1/transfers?after=<position>, which answers once
 * the projection has passed that position (or 409 after 2 s). The time from the POST's answer to
 * the GET's is what a client doing read-your-writes waits. The lag the service reports
 * (GET /v1/audit/read-side, ms behind the head) is sampled beside it, for the note.
 */
const RATE_PER_S = 2000;
const DURATION_S = 10;
const CONNECTIONS = 64;
const SETUP_CONCURRENCY = 32;
const PROBE_INTERVAL_MS = 50;
const LAG_SAMPLE_INTERVAL_MS = 100;
const LEDGER_SCRIPT = join(__dirname, '..', 'bin', 'ledger.js');

type Probe = { visibleMs: number[]; failures: number };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const json = async (response: Response): Promise<{ data?: Record<string, unknown> }> =>
  (await response.json()) as { data?: Record<string, unknown> };

/** One write then one read-your-writes query; the ms between the two answers, or null on failure. */
const probeOnce = async (baseUrl: string, apiKey: string): Promise<number | null> => {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const posted = await fetch(`${baseUrl}/v1/transfers`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': uuidv7() },
    body: randomPairBodies(),
  });
  const position = (await json(posted)).data?.['position'];
  if (!posted.ok || typeof position !== 'string') return null;
  const writtenMs = performance.now();
  const read = await fetch(`${baseUrl}/v1/transfers?page_size=1&after=${position}`, { headers });
  await read.arrayBuffer();
  return read.ok ? performance.now() - writtenMs : null;
};

const probeUntil = async (baseUrl: string, apiKey: string, untilMs: number): Promise<Probe> => {
  const probe: Probe = { visibleMs: [], failures: 0 };
  while (performance.now() < untilMs) {
    const startedMs = performance.now();
    const visibleMs = await probeOnce(baseUrl, apiKey).catch(() => null);
    if (visibleMs === null) probe.failures += 1;
    else probe.visibleMs.push(visibleMs);
    await sleep(Math.max(0, PROBE_INTERVAL_MS - (performance.now() - startedMs)));
  }
  return probe;
};

/** The largest `lag.msBehind` the service reported while sampled. */
const sampleLagUntil = async (
  baseUrl: string,
  apiKey: string,
  untilMs: number,
): Promise<number> => {
  let msBehindMax = 0;
  while (performance.now() < untilMs) {
    const response = await fetch(`${baseUrl}/v1/audit/read-side`, {
      headers: { authorization: `Bearer ${apiKey}` },
    }).catch(() => null);
    const lag =
      response === null
        ? undefined
        : ((await json(response)).data?.['lag'] as { msBehind?: number } | undefined);
    msBehindMax = Math.max(msBehindMax, lag?.msBehind ?? 0);
    await sleep(LAG_SAMPLE_INTERVAL_MS);
  }
  return msBehindMax;
};

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** Starts the built service, opens the accounts, then loads it and probes for DURATION_S. */
export const readSideLagScenario = async (): Promise<Row> => {
  const apiKey = randomBytes(24).toString('base64url');
  const server = await startChildServer({
    script: LEDGER_SCRIPT,
    args: ['serve'],
    env: { LEDGER_ADMIN_API_KEY: apiKey, LOG_LEVEL: 'warn', MAILBOX_DEPTH_MAX: '100000' },
    nodeFlags: [],
  });
  const unregister = onInterrupt(server.stop);
  try {
    const open = (id: string) =>
      postCommand(server.baseUrl, apiKey, '/v1/accounts', {
        accountId: id,
        currency: CURRENCY,
        constraint: 'none',
      });
    await runBounded(ACCOUNT_COUNT, SETUP_CONCURRENCY, (index) => open(accountId(index)));
    process.stderr.write(`  running read-side lag at ${RATE_PER_S} transfers/s\n`);
    const untilMs = performance.now() + DURATION_S * 1000;
    const [load, probe, msBehindMax] = await Promise.all([
      runLoad({
        baseUrl: server.baseUrl,
        path: '/v1/transfers',
        apiKey,
        connections: CONNECTIONS,
        durationS: DURATION_S,
        overallRate: RATE_PER_S,
        nextBody: randomPairBodies,
      }),
      probeUntil(server.baseUrl, apiKey, untilMs),
      sampleLagUntil(server.baseUrl, apiKey, untilMs),
    ]);
    const sorted = [...probe.visibleMs].sort((left, right) => left - right);
    const p99Ms = quantile(sorted, 0.99);
    const met =
      probe.failures === 0 &&
      sorted.length > 0 &&
      p99Ms <= 100 &&
      load.throughputPerS >= RATE_PER_S * 0.95;
    const note = [
      `write-to-visible over ${sorted.length} probes; load ${Math.round(load.throughputPerS)} transfers/s (p99 ${load.p99Ms} ms); reported lag max ${msBehindMax} ms`,
      failedStatuses(load.statusCounts),
    ]
      .filter((part) => part !== '')
      .join('; ');
    return {
      scenario: `read-side lag at ${RATE_PER_S} transfers/s`,
      requests: load.requests + sorted.length,
      throughputPerS: load.throughputPerS,
      unit: 'req/s',
      p50Ms: quantile(sorted, 0.5),
      p99Ms,
      errors: probe.failures + load.errors,
      non2xx: load.non2xx,
      target: '≤ 100 ms p99',
      met,
      note,
    };
  } finally {
    unregister();
    await server.stop();
  }
};
