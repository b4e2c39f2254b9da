import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect } from 'nats';
import { v7 as uuidv7 } from 'uuid';
import { createNatsBus } from '../adapters/bus/nats.bus';
import { createSqliteCheckpointStore } from '../adapters/checkpoints/sqlite.checkpoint-store';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite.event-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { MESSAGING_LIMITS } from '../bin/config';
import { DEAD_LETTER_PREFIX } from '../bin/messaging';
import { EMPTY_CHAIN, sealEvents } from '../domain/event-chain';
import { createRelay } from '../sagas/relay';
import { startChildServer } from './child-server';
import {
  AMOUNT_MINOR,
  type CreditClient,
  type Delivered,
  DRAIN_MS,
  IN_BENCH_CLIENT,
  MEASURED_COUNT,
  pause,
  prepareForked,
  prepareInBench,
  RATE_PER_S,
  SETTLE_MS,
  SETUP_CONCURRENCY,
  WALLET_COUNT,
  WARM_UP_COUNT,
} from './credit-clients';
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
const LEDGER_SCRIPT = join(__dirname, '..', 'bin', 'ledger.js');
const BACKLOG_WAIT_MS = 20_000;
/** BENCH_LOOP_DELAY_DIR: each service thread's event-loop delay over the window (bench/loop-delay.ts). */
const LOOP_DELAY_DIR = process.env['BENCH_LOOP_DELAY_DIR']?.trim() || null;
const RELAY_EVENT_COUNT = 100_000;
const RELAY_EVENTS_PER_STREAM = 100;
const RELAY_TIMEOUT_MS = 15_000;
const quantile = (sorted: readonly number[], q: number): number | null =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;

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
