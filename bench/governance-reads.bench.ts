import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { createFileKeyRing } from '../adapters/tokens/file.key-ring';
import { createJoseTokenService } from '../adapters/tokens/jose.token-service';
import { ensureKeyRing, tokenKeysPath } from '../adapters/tokens/key-ring-file';
import { startChildServer } from './child-server';
import { announce, type HttpBenchOptions, loadRow, newApiKey, withServer } from './http-scenarios';
import { runBounded, runLoad, type LoadFigures } from './load';
import { cpuPerRequestNote, type ProcessCpu } from './process-cpu';
import { waitForReadSide } from './service-probe';
import { formatInteger, type Row } from './report';

/**
 * Issue #15's read benchmark: account and payment reads and filtered, paginated lists, with
 * OAuth access tokens of several merchant clients and the rate limits on (set above the load),
 * against the built service. After a warm-up, two loads of LOAD_S: at a fixed 600 req/s (the seed's line: p95 ≤
 * 200 ms at ≥ 500 req/s) and as fast as the service answers. Then the CPU cost of verifying an
 * access token, in this process: a token's first verification and a cached one.
 */
const LEDGER_SCRIPT = join(__dirname, '..', 'bin', 'ledger.js');
const CLIENT_COUNT = 4;
const ACCOUNTS_PER_CLIENT = 50;
const PAYMENTS_PER_CLIENT = 50;
const PAGE_SIZE = 20;
const SETUP_CONCURRENCY = 16;
const CONNECTIONS = 32;
const LOAD_S = 10;
/** An unmeasured load first: JIT, page caches and the vault's keys warm (a first try without it
 *  measured the warm-up: 107 req/s, p50 293 ms, then 577 req/s and p50 26 ms right after). */
const WARM_UP_S = 5;
const FIXED_RATE_PER_S = 600;
const TARGET = { ratePerS: 500, p95Ms: 200 };
/** Far above the load, so the limiters count every request and refuse none. */
const LIMITS = {
  RATE_LIMIT_CLIENT: '20000/1s',
  RATE_LIMIT_IP: '50000/1s',
  RATE_LIMIT_HOT_KEY: '20000/1s',
};
const TOKEN_VERIFY_COUNT = 2_000;
const READY_TIMEOUT_MS = 120_000;

type Merchant = { clientId: string; token: string; accountIds: string[]; paymentIds: string[] };

const call = async (
  baseUrl: string,
  credential: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> => {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${credential}`,
      ...(body === undefined
        ? {}
        : { 'content-type': 'application/json', 'idempotency-key': uuidv7() }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as { data?: Record<string, unknown> };
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer.data ?? {};
};

/** A merchant client with a client secret, its access token, accounts (with holder data) and payments. */
const setUpMerchant = async (
  baseUrl: string,
  adminKey: string,
  index: number,
): Promise<Merchant> => {
  const clientId = `bench-shop-${index}`;
  await call(baseUrl, adminKey, 'POST', '/v1/clients', { clientId, role: 'merchant' });
  const { clientSecret } = await call(
    baseUrl,
    adminKey,
    'POST',
    `/v1/clients/${clientId}/secret`,
    {},
  );
  const basic = Buffer.from(`${clientId}:${String(clientSecret)}`).toString('base64');
  const tokenResponse = await fetch(`${baseUrl}/v1/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const accountIds = Array.from({ length: ACCOUNTS_PER_CLIENT }, (_, n) => `${clientId}-acc-${n}`);
  await runBounded(accountIds.length, SETUP_CONCURRENCY, async (n) => {
    await call(baseUrl, token, 'POST', '/v1/accounts', {
      accountId: accountIds[n],
      currency: 'EUR',
      holder: {
        subjectId: `${clientId}-person-${n}`,
        name: '张三丰',
        nationalId: '110101199003071234',
        phone: '13812345678',
        bankCard: '6222020200112233445',
        email: 'zs@example.com',
      },
    });
  });
  const paymentIds: string[] = [];
  await runBounded(PAYMENTS_PER_CLIENT, SETUP_CONCURRENCY, async (n) => {
    const created = await call(baseUrl, token, 'POST', '/v1/payments', {
      merchantOrderNo: `${clientId}-order-${n}`,
      amountMinor: 100 + n,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'Plan',
      creditAccountId: accountIds[n % accountIds.length],
    });
    paymentIds.push(String((created['payment'] as { paymentId: string }).paymentId));
  });
  return { clientId, token, accountIds, paymentIds };
};

const pick = <T>(items: readonly T[]): T => {
  const item = items[Math.floor(Math.random() * items.length)];
  if (item === undefined) throw new Error('pick: no items');
  return item;
};

/** 30 % account reads, 30 % payment reads, 20 % account lists, 20 % payment lists. */
const nextRead = (merchants: readonly Merchant[]) => {
  const merchant = pick(merchants);
  const page = 1 + Math.floor(Math.random() * (ACCOUNTS_PER_CLIENT / PAGE_SIZE));
  const draw = Math.random();
  const path =
    draw < 0.3
      ? `/v1/accounts/${pick(merchant.accountIds)}`
      : draw < 0.6
        ? `/v1/payments/${pick(merchant.paymentIds)}`
        : draw < 0.8
          ? `/v1/accounts?currency=EUR&status=open&page_num=${page}&page_size=${PAGE_SIZE}`
          : `/v1/payments?status=pending&channel=sandbox&page_num=${page}&page_size=${PAGE_SIZE}`;
  return { method: 'GET' as const, path, apiKey: merchant.token, body: null };
};

const percentile = (sortedMs: readonly number[], fraction: number): number =>
  sortedMs[Math.min(sortedMs.length - 1, Math.floor(fraction * sortedMs.length))] ?? 0;

type MeasuredLoad = { figures: LoadFigures; p95Ms: number; cpuNote: string; loadAverage: number };

const measure = async (
  server: { baseUrl: string; cpu: () => ProcessCpu | null },
  merchants: readonly Merchant[],
  overallRate: number | null,
  durationS = LOAD_S,
): Promise<MeasuredLoad> => {
  const latenciesMs: number[] = [];
  const before = server.cpu();
  const figures = await runLoad({
    baseUrl: server.baseUrl,
    path: '/v1/health',
    apiKey: '',
    connections: CONNECTIONS,
    durationS,
    ...(overallRate === null ? {} : { overallRate }),
    nextBody: () => '',
    nextRequest: () => nextRead(merchants),
    onResponse: (statusCode, responseTimeMs) => {
      if (statusCode < 300) latenciesMs.push(responseTimeMs);
    },
  });
  const cpuNote = cpuPerRequestNote(before, server.cpu(), figures.sentCount);
  latenciesMs.sort((a, b) => a - b);
  return {
    figures: {
      ...figures,
      p50Ms: percentile(latenciesMs, 0.5),
      p99Ms: percentile(latenciesMs, 0.99),
    },
    p95Ms: percentile(latenciesMs, 0.95),
    cpuNote,
    loadAverage: loadavg()[0] ?? 0,
  };
};

const readRow = (scenario: string, measured: MeasuredLoad, judged: boolean): Row => {
  const { figures, p95Ms } = measured;
  return loadRow(scenario, figures, {
    target: judged ? `p95 ≤ ${TARGET.p95Ms} ms at ≥ ${TARGET.ratePerS} req/s` : '',
    met: judged ? p95Ms <= TARGET.p95Ms && figures.throughputPerS >= TARGET.ratePerS : null,
    note: [
      `p95 ${p95Ms.toFixed(1)} ms`,
      `${CLIENT_COUNT} merchant clients with access tokens, ${CONNECTIONS} connections`,
      'limits on (client, IP, hot key) above the load',
      measured.cpuNote.replace('process CPU', 'service CPU (every thread, /proc)'),
      `load average ${measured.loadAverage.toFixed(2)}`,
    ]
      .filter((part) => part !== '')
      .join('; '),
  });
};

/** CPU µs per verification, in this process: first (signature checked) and cached. */
const tokenVerifyRow = async (): Promise<Row> => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-tokens-'));
  try {
    const filePath = tokenKeysPath(dir);
    const overlapMs = 3_600_000;
    ensureKeyRing({ filePath, configuredKeyFile: null, nowMs: Date.now(), overlapMs });
    const tokens = createJoseTokenService({
      keyRing: createFileKeyRing({ filePath, overlapMs }),
      issuer: 'http://bench',
      audience: 'ledger-api',
      tokenTtlS: 900,
    });
    const issued: string[] = [];
    for (let n = 0; n < TOKEN_VERIFY_COUNT; n += 1)
      issued.push(
        (
          await tokens.issue({
            clientId: `c-${n % 8}`,
            mode: 'live',
            scopes: ['accounts:read'],
            nowMs: Date.now(),
          })
        ).accessToken,
      );
    const cpuUsPerVerify = async (): Promise<number> => {
      const start = process.cpuUsage();
      for (const token of issued) {
        const verified = await tokens.verify(token, Date.now());
        if (!verified.ok) throw new Error(`token refused: ${verified.reason}`);
      }
      const used = process.cpuUsage(start);
      return (used.user + used.system) / issued.length;
    };
    const firstUs = await cpuUsPerVerify();
    const cachedUs = await cpuUsPerVerify();
    return {
      scenario: 'access token verification (in-process)',
      requests: TOKEN_VERIFY_COUNT * 2,
      throughputPerS: 1_000_000 / firstUs,
      unit: 'first verifies/s',
      p50Ms: null,
      p99Ms: null,
      errors: 0,
      non2xx: 0,
      target: '',
      met: null,
      note:
        `CPU per verification: first ${firstUs.toFixed(1)} µs (EdDSA signature, claims), cached ` +
        `${cachedUs.toFixed(1)} µs (same token again: map lookup, kid and exp checks); ` +
        `${formatInteger(TOKEN_VERIFY_COUNT)} distinct tokens; load average ${(loadavg()[0] ?? 0).toFixed(2)}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export const governanceReadsScenario = async (options: HttpBenchOptions): Promise<Row[]> => {
  const adminKey = newApiKey();
  const start = () =>
    startChildServer({
      script: LEDGER_SCRIPT,
      args: ['serve'],
      env: { LEDGER_ADMIN_API_KEY: adminKey, LOG_LEVEL: 'warn', ...LIMITS },
      nodeFlags:
        options.cpuProfileDir === null
          ? []
          : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`],
    });
  const rows = await withServer(start, async (server) => {
    announce(`governed reads: setting up ${CLIENT_COUNT} merchant clients`);
    const merchants: Merchant[] = [];
    for (let index = 0; index < CLIENT_COUNT; index += 1)
      merchants.push(await setUpMerchant(server.baseUrl, adminKey, index));
    // The lists read the read models: the loads start once they hold every account and payment.
    const caughtUpMs = await waitForReadSide(
      { baseUrl: server.baseUrl, apiKey: adminKey },
      READY_TIMEOUT_MS,
    );
    if (caughtUpMs === null) throw new Error('the read side did not catch up after the setup');
    announce(`governed reads: ${WARM_UP_S} s of warm-up, not measured`);
    await measure(server, merchants, null, WARM_UP_S);
    announce(`governed reads at ${FIXED_RATE_PER_S} req/s for ${LOAD_S} s`);
    const fixed = await measure(server, merchants, FIXED_RATE_PER_S);
    announce(`governed reads as fast as answered for ${LOAD_S} s`);
    const unbounded = await measure(server, merchants, null);
    return [
      readRow(`governed reads at ${FIXED_RATE_PER_S} req/s`, fixed, true),
      readRow('governed reads, as fast as answered', unbounded, false),
    ];
  });
  announce('access token verification');
  rows.push(await tokenVerifyRow());
  return rows;
};
