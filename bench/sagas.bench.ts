import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { connect } from 'nats';
import { v7 as uuidv7 } from 'uuid';
import { createNatsBus } from '../adapters/bus/nats.bus';
import {
  signSandboxCallback,
  SANDBOX_SIGNATURE_HEADER,
} from '../adapters/channels/sandbox.channel';
import { createSqliteCheckpointStore } from '../adapters/checkpoints/sqlite.checkpoint-store';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite.event-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { MESSAGING_LIMITS } from '../bin/config';
import { DEAD_LETTER_PREFIX } from '../bin/messaging';
import { EMPTY_CHAIN, sealEvents } from '../domain/event-chain';
import { createRelay } from '../sagas/relay';
import { startChildServer } from './child-server';
import type { CreditLoadReply, CreditLoadRequest } from './credit-load';
import { forkChild } from './forked-child';
import { loopDelayFlags, loopDelayNote } from './loop-delay';
import { onInterrupt } from './cleanup';
import { newApiKey } from './http-scenarios';
import { postCommand, runBounded } from './load';
import { cpuPerRequestNote, type ProcessCpu } from './process-cpu';
import { startBenchNatsServer } from './nats-server';
import { failedStatuses, formatInteger, type Row } from './report';

/**
 * The saga figures; NATS runs on a real nats-server on loopback:
 * (1) callback-to-credit latency: signed sandbox `payment.succeeded` callbacks at 500/s into the
 *     built service, on the in-process bus and on NATS (NATS_URL set); callback i is due at
 *     i / 500 s after the start and timed from its due time until the wallet's credit is
 *     visible in the read model. One SSE stream per wallet (GET /v1/events/accounts/{id}): the
 *     service pushes a frame in the same tick as the projection commits the balance change, so
 *     the frame's arrival is the moment any reader can see the credit, without adding polling
 *     load or a polling interval to the figure. The sender is open-loop (it never waits for
 *     answers), so a slow service shows as latency. By default the sender and the SSE readers
 *     run in a forked process (bench/credit-load.ts) with a fixed pool of keep-alive
 *     connections; BENCH_CREDIT_CLIENT=in-bench keeps the first client (fetch and JSON.parse in
 *     the bench's own process). Each row notes the client's event-loop delay and CPU.
 * (2) relay throughput: createRelay over a SQLite log pre-filled with 100,000 events publishing
 *     into JetStream, timed from start until its checkpoint reaches the head.
 */
/** A positive integer from the bench's environment, else the default. */
const envCount = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? '');
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
};
const LEDGER_SCRIPT = join(__dirname, '..', 'bin', 'ledger.js');
/** BENCH_CREDIT_RATE_PER_S / BENCH_CREDIT_COUNT: a lower rate or a shorter trial (defaults: the issue's). */
const RATE_PER_S = envCount('BENCH_CREDIT_RATE_PER_S', 500);
const MEASURED_COUNT = envCount('BENCH_CREDIT_COUNT', 4000);
const WARM_UP_COUNT = Math.min(500, Math.ceil(MEASURED_COUNT / 8));
/** Payment i credits wallet i % WALLET_COUNT: one credit per wallet per second at 500/s. */
const WALLET_COUNT = 500;
const AMOUNT_MINOR = 100;
const SETUP_CONCURRENCY = 32;
const SETTLE_MS = 5_000;
/** How long the CPU figure waits for the credits still missing after SETTLE_MS (BENCH_CREDIT_DRAIN_MS). */
const DRAIN_MS = envCount('BENCH_CREDIT_DRAIN_MS', 180_000);
const BACKLOG_WAIT_MS = 20_000;
/** The forked client's keep-alive connections: a callback due while all are busy waits for one. */
const CONNECTION_COUNT = 64;
/** BENCH_CREDIT_CLIENT=in-bench: the first client (fetch in the bench's process), else forked. */
const IN_BENCH_CLIENT = process.env['BENCH_CREDIT_CLIENT'] === 'in-bench';
/** BENCH_LOOP_DELAY_DIR: each service thread's event-loop delay over the window (bench/loop-delay.ts). */
const LOOP_DELAY_DIR = process.env['BENCH_LOOP_DELAY_DIR']?.trim() || null;
const RELAY_EVENT_COUNT = 100_000;
const RELAY_EVENTS_PER_STREAM = 100;
const RELAY_TIMEOUT_MS = 15_000;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (sorted: readonly number[], q: number): number | null =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;

/** A wallet's SSE stream: resolves waiters once its posted balance reaches their threshold. */
type WalletWatch = { waitFor: (balanceMinor: number) => Promise<number>; close: () => void };

const watchWallet = (baseUrl: string, apiKey: string, walletId: string): Promise<WalletWatch> =>
  new Promise((resolve, reject) => {
    let balanceMinor = -1;
    let waiters: { minor: number; seen: (atMs: number) => void }[] = [];
    const onFrame = (frame: string): void => {
      const data = frame.split('\n').find((line) => line.startsWith('data: '));
      if (data === undefined) return;
      balanceMinor = Number((JSON.parse(data.slice(6)) as { balanceMinor?: unknown }).balanceMinor);
      const atMs = performance.now();
      waiters = waiters.filter((waiter) =>
        waiter.minor <= balanceMinor ? void waiter.seen(atMs) : true,
      );
      resolve(watch);
    };
    const watch: WalletWatch = {
      waitFor: (minor) =>
        new Promise((seen) =>
          minor <= balanceMinor ? seen(performance.now()) : waiters.push({ minor, seen }),
        ),
      close: () => request.destroy(),
    };
    const headers = { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' };
    const request = httpGet(
      `${baseUrl}/v1/events/accounts/${walletId}`,
      { headers, agent: false },
      (response) => {
        response.on('error', () => undefined); // Closed by us at the end.
        if (response.statusCode !== 200)
          return reject(new Error(`SSE ${walletId}: ${response.statusCode ?? 0}`));
        response.setEncoding('utf8');
        let buffer = '';
        response.on('data', (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            onFrame(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        });
      },
    );
    request.on('error', reject);
  });

const createPayment = async (baseUrl: string, apiKey: string, index: number): Promise<string> => {
  const body = {
    merchantOrderNo: `bench-${index}`,
    amountMinor: AMOUNT_MINOR,
    currency: 'EUR',
    channel: 'sandbox',
    subject: 'top-up',
    creditAccountId: `wallet-${index % WALLET_COUNT}`,
  };
  const headers = {
    authorization: `Bearer ${apiKey}`,
    'content-type': 'application/json',
    'idempotency-key': uuidv7(),
  };
  const response = await fetch(`${baseUrl}/v1/payments`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  const envelope = (await response.json()) as { data?: { payment?: { paymentId?: string } } };
  const paymentId = envelope.data?.payment?.paymentId;
  if (!response.ok || paymentId === undefined)
    throw new Error(`create payment ${index}: ${response.status}`);
  return paymentId;
};

/**
 * Waits (bounded) until the relay has published every event of the setup (ledger_relay_lag_events
 * 0): the NATS backlog is drained. (Payments no longer start an expiry saga to count.)
 */
const waitSetupBacklog = async (baseUrl: string, apiKey: string): Promise<void> => {
  const deadlineMs = Date.now() + BACKLOG_WAIT_MS;
  while (Date.now() < deadlineMs) {
    const response = await fetch(`${baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    if (/^ledger_relay_lag_events 0$/m.test(await response.text())) return;
    await pause(200);
  }
  process.stderr.write('  setup backlog not drained in time: measuring anyway\n');
};

const COUNTED_METRICS = [
  'ledger_event_store_commits_total',
  'ledger_event_store_syncs_total',
  'ledger_events_appended_total',
  'ledger_commands_total',
];
/** prom-client's event-loop delay of the API thread, reset at each scrape (api/metrics.ts). */
const LOOP_METRICS = ['nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds'];

/** The values of the named metrics (every label set) from GET /metrics. */
const scrapeMetrics = async (
  baseUrl: string,
  apiKey: string,
  names: readonly string[],
): Promise<Map<string, number>> => {
  const response = await fetch(`${baseUrl}/metrics`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!names.some((name) => line.startsWith(name))) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
};

/** The service's work counters (durable commits, events appended, commands) from GET /metrics. */
const workCounters = (baseUrl: string, apiKey: string): Promise<Map<string, number>> =>
  scrapeMetrics(baseUrl, apiKey, [...COUNTED_METRICS, ...LOOP_METRICS]);

/** The API thread's event-loop delay since the scrape before (prom-client resets it). */
const serviceLoopNote = (after: Map<string, number>): string => {
  const ms = (name: string): string => ((after.get(name) ?? Number.NaN) * 1000).toFixed(0);
  return `service API thread event loop delay p99 ${ms(LOOP_METRICS[0] ?? '')} ms, max ${ms(LOOP_METRICS[1] ?? '')} ms`;
};

/** "name{labels} x.xx" per callback for each counter that moved, largest first. */
const workPerCallback = (
  before: Map<string, number>,
  after: Map<string, number>,
  callbackCount: number,
): string =>
  [...after]
    .filter(([name]) => COUNTED_METRICS.some((counted) => name.startsWith(counted)))
    .map(([name, value]) => [name, (value - (before.get(name) ?? 0)) / callbackCount] as const)
    .filter(([, perCallback]) => perCallback >= 0.005)
    .sort(([, left], [, right]) => right - left)
    .map(([name, perCallback]) => `${name.replace('ledger_', '')} ${perCallback.toFixed(2)}`)
    .join(', ');

type Delivery = { latencyMs: number | null; answerMs: number | null; status: number };

/** The signed sandbox callback that pays payment `index`: its raw body and headers. */
const signedCallback = (secret: string, paymentIds: readonly string[], index: number) => {
  const raw = Buffer.from(
    JSON.stringify({
      event: 'payment.succeeded',
      paymentId: paymentIds[index],
      channelTransactionId: `tx-${index}`,
      amountMinor: AMOUNT_MINOR,
      currency: 'EUR',
    }),
  );
  const headers = {
    'content-type': 'application/json',
    [SANDBOX_SIGNATURE_HEADER]: signSandboxCallback(secret, raw, Date.now()),
  };
  return { raw, headers };
};

/** A client whose connections and SSE streams are open: `run` sends the callbacks. */
type CreditClient = { run: () => Promise<Delivered>; stop: () => void };

/** The in-bench client: one SSE stream per wallet, opened by the bench process itself. */
const prepareInBench = async (
  baseUrl: string,
  apiKey: string,
  secret: string,
  paymentIds: readonly string[],
): Promise<CreditClient> => {
  const wallets: WalletWatch[] = [];
  await runBounded(
    WALLET_COUNT,
    SETUP_CONCURRENCY,
    async (index) => void (wallets[index] = await watchWallet(baseUrl, apiKey, `wallet-${index}`)),
  );
  return {
    run: () => deliverInBench(baseUrl, secret, paymentIds, wallets),
    stop: () => wallets.forEach((wallet) => wallet.close()),
  };
};

/** What a client run hands back: the measured callbacks, and how its own process fared. */
type Delivered = {
  /** The measured callbacks (the warm-up left out) as seen SETTLE_MS after the last send. */
  deliveries: Delivery[];
  sentPerS: number;
  drained: boolean;
  acknowledged: boolean[];
  /** The client: its kind, its event-loop delay and CPU over the send-and-settle window. */
  client: string;
};

/** "<kind>: event loop delay p99 x ms, max y ms; CPU z µs/callback (w cores)". */
const clientNote = (
  kind: string,
  loop: { p99Ms: number; maxMs: number },
  cpuUs: number,
  windowMs: number,
  callbackCount: number,
): string =>
  `${kind}: event loop delay p99 ${loop.p99Ms.toFixed(1)} ms, max ${loop.maxMs.toFixed(1)} ms; ` +
  `CPU ${Math.round(cpuUs / callbackCount)} µs/callback (${(cpuUs / 1000 / windowMs).toFixed(2)} cores)`;

/** Counts each status once every callback was answered or the drain ended; prints them. */
const answersAfterDrain = (statuses: readonly number[]): boolean[] => {
  const answers = new Map<number, number>();
  statuses.forEach((status) => answers.set(status, (answers.get(status) ?? 0) + 1));
  const answerText = [...answers].map(([status, count]) => `${status} ×${count}`).join(', ');
  process.stderr.write(`  answers after the drain: ${answerText}\n`);
  return statuses.map((status) => status === 200);
};

/**
 * The first client (BENCH_CREDIT_CLIENT=in-bench): callbacks sent with global fetch (undici, a
 * new connection whenever all are busy) and the SSE streams parsed with JSON.parse, all in the
 * bench's own process, whose event loop also stamps the times. Sends callback i at i /
 * RATE_PER_S s after start; resolves once every credit was seen or the drain ended.
 */
const deliverInBench = async (
  baseUrl: string,
  secret: string,
  paymentIds: readonly string[],
  wallets: readonly WalletWatch[],
): Promise<Delivered> => {
  const deliveries: Delivery[] = paymentIds.map(() => ({
    latencyMs: null,
    answerMs: null,
    status: 0,
  }));
  const credits: Promise<void>[] = [];
  const send = (index: number, delivery: Delivery): void => {
    const { raw, headers } = signedCallback(secret, paymentIds, index);
    const sentMs = performance.now();
    const credited = wallets[index % WALLET_COUNT]?.waitFor(
      (Math.floor(index / WALLET_COUNT) + 1) * AMOUNT_MINOR,
    );
    credits.push(
      credited?.then((seenMs) => void (delivery.latencyMs = seenMs - sentMs)) ?? Promise.resolve(),
    );
    const answered = (status: number): void =>
      void Object.assign(delivery, { status, answerMs: performance.now() - sentMs });
    void fetch(`${baseUrl}/v1/channels/sandbox/callbacks`, {
      method: 'POST',
      headers,
      body: raw,
    }).then(
      async (response) => void (await response.arrayBuffer(), answered(response.status)),
      () => answered(-1),
    );
  };
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  for (let next = 0; next < paymentIds.length; await pause(1)) {
    const dueCount = Math.min(
      paymentIds.length,
      Math.floor(((performance.now() - startedMs) * RATE_PER_S) / 1000) + 1,
    );
    for (; next < dueCount; next += 1)
      send(next, deliveries[next] ?? { latencyMs: null, answerMs: null, status: 0 });
  }
  const sentPerS = paymentIds.length / ((performance.now() - startedMs) / 1000);
  const allCredited = Promise.all(credits).then(() => true);
  await Promise.race([allCredited, pause(SETTLE_MS)]);
  const cpu = process.cpuUsage(cpuBefore);
  loop.disable();
  const client = clientNote(
    'in-bench fetch client and SSE parser',
    { p99Ms: loop.percentile(99) / 1e6, maxMs: loop.max / 1e6 },
    cpu.user + cpu.system,
    performance.now() - startedMs,
    paymentIds.length,
  );
  // The figures: what was seen by now. A late credit must not change them below.
  const measured = deliveries.slice(WARM_UP_COUNT).map((delivery) => ({ ...delivery }));
  // The CPU figure covers the whole work of every callback: wait (bounded) for the last credit.
  const drained = await Promise.race([allCredited, pause(DRAIN_MS).then(() => false)]);
  // Every callback's answer by then (-1: the connection failed; 0: not answered yet).
  const acknowledged = answersAfterDrain(deliveries.map(({ status }) => status));
  return { deliveries: measured, sentPerS, drained, acknowledged, client };
};

/**
 * The default client (bench/credit-load.ts, forked): CONNECTION_COUNT keep-alive connections on
 * the same open-loop schedule, latencies from each callback's due time, the SSE streams scanned
 * without a JSON parse, in a process that does nothing else.
 */
const prepareForked = async (
  baseUrl: string,
  apiKey: string,
  secret: string,
  paymentIds: readonly string[],
): Promise<CreditClient> => {
  const load = await forkChild<CreditLoadRequest, CreditLoadReply>('credit-load.js');
  const deliveries = paymentIds.map((_, index) => {
    const { raw, headers } = signedCallback(secret, paymentIds, index);
    return { body: raw.toString('utf8'), headers };
  });
  const ready = await load
    .ask({
      kind: 'prepare',
      url: `${baseUrl}/v1/channels/sandbox/callbacks`,
      apiKey,
      deliveries,
      connectionCount: CONNECTION_COUNT,
      ratePerS: RATE_PER_S,
      walletIds: Array.from({ length: WALLET_COUNT }, (_, index) => `wallet-${index}`),
      amountMinor: AMOUNT_MINOR,
      settleMs: SETTLE_MS,
      drainMs: DRAIN_MS,
    })
    .catch((error: unknown) => {
      load.stop();
      throw error;
    });
  if (ready.kind !== 'ready') throw new Error('credit load did not get ready');
  const run = async (): Promise<Delivered> => {
    const done = await load.ask({ kind: 'run' });
    if (done.kind !== 'done') throw new Error('credit load did not finish');
    const measured = done.latenciesMs.slice(WARM_UP_COUNT).map((latencyMs, offset) => ({
      latencyMs,
      answerMs: done.answersMs[WARM_UP_COUNT + offset] ?? null,
      status:
        done.answersMs[WARM_UP_COUNT + offset] === null
          ? 0
          : (done.statuses[WARM_UP_COUNT + offset] ?? 0),
    }));
    const kind = `forked client, ${CONNECTION_COUNT} keep-alive connections, latencies from due time`;
    return {
      deliveries: measured,
      sentPerS: done.sentPerS,
      drained: done.drained,
      acknowledged: answersAfterDrain(done.statuses),
      client: clientNote(kind, done.loop, done.cpuUs, done.windowMs, paymentIds.length),
    };
  };
  return { run, stop: load.stop };
};

/**
 * The ledger's own answer after the drain, read from each wallet's balance (not from SSE): how
 * many acknowledged callbacks are credited, and how many credits the wallets hold in all. A
 * credit "not seen" by SSE but in the ledger is a late or missed frame; an acknowledged callback
 * not in the ledger is a lost credit.
 */
const ledgerCredits = async (
  baseUrl: string,
  apiKey: string,
  acknowledged: readonly boolean[],
): Promise<string> => {
  const expectedMinor = new Array<number>(WALLET_COUNT).fill(0);
  acknowledged.forEach((ok, index) => {
    const wallet = index % WALLET_COUNT;
    if (ok) expectedMinor[wallet] = (expectedMinor[wallet] ?? 0) + AMOUNT_MINOR;
  });
  let heldMinor = 0;
  let shortWallets = 0;
  await runBounded(WALLET_COUNT, SETUP_CONCURRENCY, async (index) => {
    const response = await fetch(`${baseUrl}/v1/accounts/wallet-${index}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    const envelope = (await response.json()) as { data?: { account?: { balanceMinor?: number } } };
    const balanceMinor = envelope.data?.account?.balanceMinor ?? 0;
    heldMinor += balanceMinor;
    if (balanceMinor < (expectedMinor[index] ?? 0)) shortWallets += 1;
  });
  const acknowledgedCount = acknowledged.filter(Boolean).length;
  return `ledger after the drain: ${heldMinor / AMOUNT_MINOR} credits held for ${acknowledgedCount} acknowledged callbacks of ${acknowledged.length}, ${shortWallets} wallets short`;
};

/** Runs work, then stop (also on Ctrl-C). */
const guarded = async <T>(stop: () => Promise<void> | void, work: () => Promise<T>): Promise<T> => {
  const unregister = onInterrupt(stop);
  try {
    return await work();
  } finally {
    unregister();
    await stop();
  }
};

type BusKind = 'NATS' | 'in-process bus';

/** The service's CPU over every thread while the measured callbacks ran, and the load average. */
type CreditRun = Omit<Delivered, 'acknowledged'> & {
  cpuBefore: ProcessCpu | null;
  cpuAfter: ProcessCpu | null;
  /** Every callback sent, warm-up included: what the CPU was spent on. */
  sentCount: number;
  /** The API thread's event-loop delay over the same interval. */
  serviceLoop: string;
  /** Durable commits, events and commands per callback over the same interval. */
  work: string;
  /** Acknowledged callbacks against the credits the wallets hold after the drain. */
  ledger: string;
  loadAverage: number;
};

const creditRow = (bus: BusKind, run: CreditRun): Row => {
  const { deliveries, sentPerS } = run;
  const sorted = (values: readonly (number | null)[]): number[] =>
    values.flatMap((value) => (value === null ? [] : [value])).sort((left, right) => left - right);
  const latencies = sorted(deliveries.map((delivery) => delivery.latencyMs));
  const statusCounts: Record<string, number> = {};
  deliveries.forEach(
    ({ status }) =>
      void (statusCounts[status || 'unanswered'] = (statusCounts[status || 'unanswered'] ?? 0) + 1),
  );
  const missing = deliveries.length - latencies.length;
  const non2xx = deliveries.length - (statusCounts['200'] ?? 0);
  const p99Ms = quantile(latencies, 0.99);
  const answerP99Ms = quantile(sorted(deliveries.map((delivery) => delivery.answerMs)), 0.99) ?? 0;
  const p95Ms = quantile(latencies, 0.95);
  const note = [
    `open-loop, ${WALLET_COUNT} wallets watched by SSE; errors = credits not seen ${SETTLE_MS / 1000} s after the last send; p95 ${p95Ms === null ? '-' : p95Ms.toFixed(1)} ms; callback answer p99 ${answerP99Ms.toFixed(1)} ms`,
    cpuPerRequestNote(run.cpuBefore, run.cpuAfter, run.sentCount).replace(
      'request',
      run.drained
        ? 'callback, every credit seen'
        : `callback, NOT every credit seen after ${DRAIN_MS / 1000} s more`,
    ),
    run.serviceLoop,
    run.client,
    `load average ${run.loadAverage.toFixed(2)}`,
    `per callback: ${run.work}`,
    run.ledger,
    failedStatuses(statusCounts),
  ];
  return {
    scenario: `callback → credit visible (${bus}, SSE)`,
    requests: deliveries.length,
    throughputPerS: sentPerS,
    unit: 'callbacks/s',
    p50Ms: quantile(latencies, 0.5),
    p99Ms,
    errors: missing,
    non2xx,
    target: '≤ 150 ms p99',
    met: p99Ms !== null && p99Ms <= 150 && missing === 0 && non2xx === 0,
    note: note.filter((part) => part !== '').join('; '),
  };
};

type ProfileOptions = { cpuProfileDir: string | null };

const creditLatency = async (bus: BusKind, options: ProfileOptions): Promise<Row> => {
  const apiKey = newApiKey();
  const secret = randomBytes(24).toString('base64url');
  const nats = bus === 'NATS' ? await startBenchNatsServer() : null;
  return guarded(nats?.stop ?? (() => undefined), async () => {
    const env = {
      LEDGER_ADMIN_API_KEY: apiKey,
      LOG_LEVEL: 'warn',
      ...(nats === null ? {} : { NATS_URL: nats.url }),
      SANDBOX_CALLBACK_SECRET: secret,
      MAILBOX_DEPTH_MAX: '100000',
    };
    const server = await startChildServer({
      script: LEDGER_SCRIPT,
      args: ['serve'],
      env,
      nodeFlags: [
        ...(options.cpuProfileDir === null
          ? []
          : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`]),
        ...loopDelayFlags(LOOP_DELAY_DIR),
      ],
    });
    let client: CreditClient | null = null;
    const stop = async (): Promise<void> => (client?.stop(), server.stop());
    return guarded(stop, async () => {
      const total = WARM_UP_COUNT + MEASURED_COUNT;
      const setupStartedMs = performance.now();
      await runBounded(WALLET_COUNT, SETUP_CONCURRENCY, (index) =>
        postCommand(server.baseUrl, apiKey, '/v1/accounts', {
          accountId: `wallet-${index}`,
          currency: 'EUR',
          constraint: 'none',
        }),
      );
      const paymentIds: string[] = [];
      await runBounded(
        total,
        SETUP_CONCURRENCY,
        async (index) =>
          void (paymentIds[index] = await createPayment(server.baseUrl, apiKey, index)),
      );
      await waitSetupBacklog(server.baseUrl, apiKey);
      const prepareClient = IN_BENCH_CLIENT ? prepareInBench : prepareForked;
      client = await prepareClient(server.baseUrl, apiKey, secret, paymentIds);
      process.stderr.write(
        `  setup: ${WALLET_COUNT} wallets, ${total} payments in ${Math.round(performance.now() - setupStartedMs)} ms\n`,
      );
      process.stderr.write(
        `  running sagas: ${total} sandbox callbacks at ${RATE_PER_S}/s (first ${WARM_UP_COUNT} warm-up)\n`,
      );
      const loadAverage = loadavg()[0] ?? 0;
      const countersBefore = await workCounters(server.baseUrl, apiKey);
      const cpuBefore = server.cpu();
      const windowFromUs = process.hrtime.bigint() / 1000n;
      const sent = await client.run();
      const windowToUs = process.hrtime.bigint() / 1000n;
      const cpuAfter = server.cpu();
      const countersAfter = await workCounters(server.baseUrl, apiKey);
      const work = workPerCallback(countersBefore, countersAfter, total);
      const serviceLoop = serviceLoopNote(countersAfter);
      process.stderr.write(`  ${bus} per callback: ${work}; ${serviceLoop}; ${sent.client}\n`);
      const ledger = await ledgerCredits(server.baseUrl, apiKey, sent.acknowledged);
      process.stderr.write(`  ${bus} ${ledger}\n`);
      const threadLoops = await loopDelayNote(LOOP_DELAY_DIR, windowFromUs, windowToUs);
      process.stderr.write(`  ${bus} ${threadLoops}\n`);
      const run = {
        ...sent,
        cpuBefore,
        cpuAfter,
        sentCount: total,
        loadAverage,
        work,
        ledger,
        serviceLoop: threadLoops === '' ? serviceLoop : `${serviceLoop}; ${threadLoops}`,
      };
      return creditRow(bus, run);
    });
  });
};

/** 1,000 account streams of 100 events each, appended one stream per append; returns the head. */
const fillLog = async (path: string): Promise<bigint> => {
  const store = createSqliteEventStore({ path });
  try {
    const actor = { clientId: 'bench', role: 'admin', ip: null };
    await runBounded(RELAY_EVENT_COUNT / RELAY_EVENTS_PER_STREAM, 64, async (streamIndex) => {
      const stream = `account-relay${streamIndex}`;
      const events = Array.from({ length: RELAY_EVENTS_PER_STREAM }, (_, index) => {
        const metadata = {
          correlationId: `c-${streamIndex}`,
          causationId: null,
          actor,
          idempotencyKey: null,
          occurredAt: new Date().toISOString(),
          schemaVersion: 1,
        };
        return {
          id: uuidv7(),
          type: 'AccountCredited',
          data: { transferId: `t-${streamIndex}-${index}`, amountMinor: 1, pending: false },
          metadata,
        };
      });
      const appended = await store.append(stream, sealEvents(stream, EMPTY_CHAIN, events).events, {
        kind: 'no_stream',
      });
      if (!appended.ok) throw new Error(`bench append refused on ${stream}`);
    });
    return (await store.headPosition()) ?? 0n;
  } finally {
    await store.close();
  }
};

const storedMessageCount = async (url: string, streamName: string): Promise<number> => {
  const connection = await connect({ servers: url });
  try {
    return (await (await connection.jetstreamManager()).streams.info(streamName)).state.messages;
  } finally {
    await connection.close();
  }
};

/** The relay as bin/messaging.ts wires it, timed until its checkpoint reaches the head (bounded). */
const relayThroughput = async (): Promise<Row> => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-relay-'));
  return guarded(
    () => rmSync(dir, { recursive: true, force: true }),
    async () => {
      const nats = await startBenchNatsServer();
      return guarded(nats.stop, async () => {
        const headPosition = await fillLog(join(dir, 'events.sqlite'));
        const store = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
        const database = openSqliteDatabase(join(dir, 'service.sqlite'));
        const saved = createSqliteCheckpointStore(database);
        let reachedHead = (): void => undefined;
        const reached = new Promise<boolean>((resolve) => (reachedHead = () => resolve(true)));
        const save = async (name: string, position: bigint): Promise<void> => {
          await saved.save(name, position);
          if (position >= headPosition) reachedHead();
        };
        let warningCount = 0;
        const onWarning = (): void => void (warningCount += 1);
        const limits = MESSAGING_LIMITS;
        const bus = await createNatsBus({
          servers: nats.url,
          streamName: 'LEDGER',
          subjects: ['ledger.events.>', 'ledger.audit.>'],
          retention: 'limits',
          maxAgeMs: 3600_000,
          replicas: 1,
          duplicateWindowMs: 120_000,
          deadLetterPrefix: DEAD_LETTER_PREFIX,
          fetchBatchMax: limits.fetchBatchMax,
          fetchExpiresMs: limits.fetchExpiresMs,
          publishAckTimeoutMs: limits.publishAckTimeoutMs,
          retryPauseMs: limits.retryPauseMs,
          onWarning,
        });
        const relay = createRelay({
          store,
          bus,
          checkpoints: { load: saved.load, save },
          windowEventCountMax: limits.relayWindowEventCountMax,
          checkpointIntervalMs: limits.relayCheckpointIntervalMs,
          retryPauseMs: limits.retryPauseMs,
          clock: Date.now,
          onWarning,
        });
        process.stderr.write(
          `  running relay: ${formatInteger(RELAY_EVENT_COUNT)} events into JetStream\n`,
        );
        const startedMs = performance.now();
        await relay.start();
        const done = await Promise.race([reached, pause(RELAY_TIMEOUT_MS).then(() => false)]);
        const elapsedS = (performance.now() - startedMs) / 1000;
        await relay.stop();
        await bus.close();
        await store.close();
        database.close();
        const stored = await storedMessageCount(nats.url, 'LEDGER');
        const perS = (done ? RELAY_EVENT_COUNT : stored) / elapsedS;
        const note = `window ${limits.relayWindowEventCountMax}, fsynced checkpoint every ${limits.relayCheckpointIntervalMs} ms; ${done ? 'reached head' : `timed out after ${RELAY_TIMEOUT_MS / 1000} s`}; ${warningCount} warnings; ${formatInteger(stored)} messages in the stream`;
        return {
          scenario: 'relay → JetStream (NATS loopback)',
          requests: RELAY_EVENT_COUNT,
          throughputPerS: perS,
          unit: 'events/s',
          p50Ms: null,
          p99Ms: null,
          errors: RELAY_EVENT_COUNT - stored,
          non2xx: 0,
          target: '≥ 20,000 events/s',
          met: done && stored === RELAY_EVENT_COUNT && perS >= 20_000,
          note,
        };
      });
    },
  );
};

/** Callback-to-credit latency on both buses (BENCH_ONLY=credit). */
export const creditBenchScenarios = async (options: ProfileOptions): Promise<Row[]> => {
  // BENCH_CREDIT_BUS=in-process or nats: one bus only (default both).
  const only = process.env['BENCH_CREDIT_BUS'] ?? '';
  const rows: Row[] = [];
  if (only !== 'nats') rows.push(await creditLatency('in-process bus', options));
  if (only !== 'in-process') rows.push(await creditLatency('NATS', options));
  return rows;
};

/** The relay alone (BENCH_ONLY=relay). */
export const relayBenchScenarios = async (): Promise<Row[]> => [await relayThroughput()];

/** The saga scenarios for bench/run.ts: callback-to-credit latency on both buses, then the relay. */
export const sagaBenchScenarios = async (options: ProfileOptions): Promise<Row[]> => [
  ...(await creditBenchScenarios(options)),
  await relayThroughput(),
];
