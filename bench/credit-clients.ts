import { get as httpGet } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  signSandboxCallback,
  SANDBOX_SIGNATURE_HEADER,
} from '../adapters/channels/sandbox.channel';
import type { CreditLoadReply, CreditLoadRequest } from './credit-load';
import { forkChild } from './forked-child';
import { runBounded } from './load';

/**
 * The two clients of the callback → credit bench (bench/sagas.bench.ts) and their schedule: the
 * forked client (bench/credit-load.ts, the default) and the first one, in the bench's own process
 * (BENCH_CREDIT_CLIENT=in-bench). Each opens its SSE streams in `prepare`, then `run` sends the
 * callbacks open-loop and hands back what was seen.
 */
export const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
/** A positive integer from the bench's environment, else the default. */
const envCount = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? '');
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
};
/** BENCH_CREDIT_RATE_PER_S / BENCH_CREDIT_COUNT: a lower rate or a shorter trial (defaults: the issue's). */
export const RATE_PER_S = envCount('BENCH_CREDIT_RATE_PER_S', 500);
export const MEASURED_COUNT = envCount('BENCH_CREDIT_COUNT', 4000);
export const WARM_UP_COUNT = Math.min(500, Math.ceil(MEASURED_COUNT / 8));
/** Payment i credits wallet i % WALLET_COUNT: one credit per wallet per second at 500/s. */
export const WALLET_COUNT = 500;
export const AMOUNT_MINOR = 100;
export const SETUP_CONCURRENCY = 32;
export const SETTLE_MS = 5_000;
/** How long the CPU figure waits for the credits still missing after SETTLE_MS (BENCH_CREDIT_DRAIN_MS). */
export const DRAIN_MS = envCount('BENCH_CREDIT_DRAIN_MS', 180_000);
/** The forked client's keep-alive connections: a callback due while all are busy waits for one. */
const CONNECTION_COUNT = 64;
/** BENCH_CREDIT_CLIENT=in-bench: the first client (fetch in the bench's process), else forked. */
export const IN_BENCH_CLIENT = process.env['BENCH_CREDIT_CLIENT'] === 'in-bench';

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

export type Delivery = { latencyMs: number | null; answerMs: number | null; status: number };

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
export type CreditClient = { run: () => Promise<Delivered>; stop: () => void };

/** The in-bench client: one SSE stream per wallet, opened by the bench process itself. */
export const prepareInBench = async (
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
export type Delivered = {
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
export const prepareForked = async (
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
