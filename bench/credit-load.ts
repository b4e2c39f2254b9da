import type { Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { exitChild, serveParent } from './forked-child';
import { answerOf, openSocket, requestBytes, type Delivery } from './http-wire';

/**
 * The load generator and the SSE watchers of the callback → credit bench (bench/sagas.bench.ts),
 * in a process of their own (fork) and as cheap as they can be, so that neither the bench's
 * other work nor a costly client stretches the figure:
 *
 * - `prepare`: every callback, built and signed by the bench, is serialised once into its request
 *   bytes; a fixed pool of keep-alive connections is opened; one SSE stream per wallet is opened
 *   and its first frame (the balance now) read.
 * - `run`: callback i is due at i / ratePerS s after the start (open-loop). A due callback takes
 *   an idle connection (one request in flight per connection), else it queues here until one is
 *   free, and its latencies still count from its due time (no coordinated omission). The SSE
 *   bytes are scanned for `"balanceMinor":` (no JSON parse): a balance of k credits marks the
 *   wallet's first k callbacks seen, each timed from its due time to the read of that frame.
 * - It answers once every credit was seen or `drainMs` passed: what was seen `settleMs` after the
 *   last send (the figures), every answer's status by the end, and its own event-loop delay and
 *   CPU time over the send-and-settle window.
 */
export type CreditLoadRequest =
  | {
      kind: 'prepare';
      url: string;
      apiKey: string;
      deliveries: readonly Delivery[];
      connectionCount: number;
      ratePerS: number;
      walletIds: readonly string[];
      amountMinor: number;
      settleMs: number;
      drainMs: number;
    }
  | { kind: 'run' };
export type CreditLoadReply =
  | { kind: 'ready' }
  | {
      kind: 'done';
      /** Per callback, `settleMs` after the last send: due → credit frame read, due → answer. */
      latenciesMs: (number | null)[];
      answersMs: (number | null)[];
      /** Each callback's HTTP status by the end (0: not answered, -1: connection failed). */
      statuses: number[];
      drained: boolean;
      sentPerS: number;
      loop: { p99Ms: number; maxMs: number };
      cpuUs: number;
      windowMs: number;
    };

const fail = (error: unknown): void => void exitChild('credit load', error);

type Prepare = Extract<CreditLoadRequest, { kind: 'prepare' }>;
/** The balance frames of every watched wallet go to `onBalance`, which `run` replaces. */
type Prepared = Prepare & {
  requests: Buffer[];
  sockets: Socket[];
  watchers: Socket[];
  balances: { onBalance: (wallet: number, balanceMinor: number) => void };
};

const BALANCE_KEY = '"balanceMinor":';
/** What a balance's digits may take beyond its key when a chunk cuts them. */
const BALANCE_DIGITS_MAX = 20;
const NS_PER_MS = 1e6;
const LOOP_RESOLUTION_MS = 1;

/** Scans an SSE stream's bytes for balances (no JSON parse); the first bytes must be a 200. */
const scanBalances = (socket: Socket, onBalance: (balanceMinor: number) => void): void => {
  let text = '';
  let started = false;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
    if (!started && text.length >= 12) {
      if (!text.startsWith('HTTP/1.1 200')) socket.destroy(new Error(text.slice(0, 12)));
      started = true;
    }
    let from = 0;
    for (let key = text.indexOf(BALANCE_KEY); key >= 0; key = text.indexOf(BALANCE_KEY, from)) {
      const start = key + BALANCE_KEY.length;
      let end = start;
      while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57)
        end += 1;
      if (end === text.length) break; // The number may go on in the next chunk.
      from = end;
      onBalance(Number(text.slice(start, end)));
    }
    // Keep only what may hold the start of a key or of a number cut by the chunk's end.
    text = text.slice(Math.max(from, text.length - BALANCE_KEY.length - BALANCE_DIGITS_MAX));
  });
};

/** One SSE stream per wallet; resolves once each has sent its first frame (the balance now). */
const watchWallets = async (request: Prepare, url: URL, balances: Prepared['balances']) => {
  const watchers = await Promise.all(request.walletIds.map(() => openSocket(url)));
  await Promise.all(
    watchers.map(
      (socket, wallet) =>
        new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          scanBalances(socket, (minor) => (balances.onBalance(wallet, minor), resolve()));
          socket.write(
            `GET /v1/events/accounts/${request.walletIds[wallet] ?? ''} HTTP/1.1\r\n` +
              `Host: ${url.host}\r\nAuthorization: Bearer ${request.apiKey}\r\n` +
              'Accept: text/event-stream\r\n\r\n',
          );
        }),
    ),
  );
  return watchers;
};

const prepare = async (request: Prepare): Promise<Prepared> => {
  const url = new URL(request.url);
  const requests = request.deliveries.map((delivery) => requestBytes(url, delivery));
  const balances: Prepared['balances'] = { onBalance: () => undefined };
  const watchers = await watchWallets(request, url, balances);
  // Opened last: an idle keep-alive connection is closed by the service after 5 s.
  const sockets = await Promise.all(
    Array.from({ length: request.connectionCount }, () => openSocket(url)),
  );
  return { ...request, requests, sockets, watchers, balances };
};

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Marks callbacks seen from each wallet's balance frames: callback i credits wallet i % count. */
const creditTracker = (prepared: Prepared, dueMs: (index: number) => number) => {
  const total = prepared.requests.length;
  const walletCount = prepared.walletIds.length;
  const latenciesMs = new Array<number | null>(total).fill(null);
  const seenCounts = new Array<number>(walletCount).fill(0);
  let seenTotal = 0;
  let allSeen = (): void => undefined;
  const everySeen = new Promise<boolean>((resolve) => (allSeen = () => resolve(true)));
  const onBalance = (wallet: number, balanceMinor: number): void => {
    const atMs = performance.now();
    const creditCount = Math.floor(balanceMinor / prepared.amountMinor);
    for (let k = seenCounts[wallet] ?? 0; k < creditCount; k += 1) {
      const index = wallet + k * walletCount;
      if (index >= total || latenciesMs[index] !== null) continue;
      latenciesMs[index] = atMs - dueMs(index);
      seenTotal += 1;
    }
    seenCounts[wallet] = Math.max(seenCounts[wallet] ?? 0, creditCount);
    if (seenTotal === total) allSeen();
  };
  return { latenciesMs, everySeen, onBalance };
};

/** Sends every callback on its schedule through the pool; resolves when the last is written. */
const sendAll = async (prepared: Prepared, startedMs: number, dueMs: (index: number) => number) => {
  const { requests, sockets, ratePerS } = prepared;
  const total = requests.length;
  const answersMs = new Array<number | null>(total).fill(null);
  const statuses = new Array<number>(total).fill(0);
  const idle: Socket[] = [];
  const inFlight = new Map<Socket, number>();
  let next = 0;
  let due = 0;
  const dispatch = (socket: Socket): void => {
    const bytes = next < due ? requests[next] : undefined;
    if (bytes === undefined) return void idle.push(socket);
    inFlight.set(socket, next);
    next += 1;
    socket.write(bytes);
  };
  for (const socket of sockets) {
    let pending: Buffer | null = null;
    socket.on('data', (chunk: Buffer) => {
      const buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
      const answer = answerOf(buffer);
      pending = answer.kind === 'partial' ? buffer : null;
      const index = inFlight.get(socket);
      if (answer.kind === 'partial' || index === undefined) return;
      if (answer.kind === 'unframed') return fail(new Error(`unframed answer: ${answer.head}`));
      statuses[index] = Number(answer.status);
      answersMs[index] = performance.now() - dueMs(index);
      inFlight.delete(socket);
      dispatch(socket);
    });
    socket.on('error', fail);
    socket.on('close', () => {
      if (inFlight.has(socket)) fail(new Error('a connection closed with an answer owed'));
    });
  }
  idle.push(...sockets);
  while (next < total) {
    due = Math.min(total, Math.floor(((performance.now() - startedMs) * ratePerS) / 1000) + 1);
    // First in, first out: every connection is used in turn, none idles into the server's timeout.
    while (next < due && idle.length > 0) dispatch(idle.shift() as Socket);
    await pause(1);
  }
  return { answersMs, statuses, sentMs: performance.now() - startedMs };
};

const run = async (prepared: Prepared): Promise<Extract<CreditLoadReply, { kind: 'done' }>> => {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  const dueMs = (index: number): number => startedMs + (index * 1000) / prepared.ratePerS;
  const credits = creditTracker(prepared, dueMs);
  prepared.balances.onBalance = credits.onBalance;
  const sent = await sendAll(prepared, startedMs, dueMs);
  await Promise.race([credits.everySeen, pause(prepared.settleMs)]);
  const windowMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(cpuBefore);
  loop.disable();
  const figures = { latenciesMs: [...credits.latenciesMs], answersMs: [...sent.answersMs] };
  const drained = await Promise.race([
    credits.everySeen,
    pause(prepared.drainMs).then(() => false),
  ]);
  [...prepared.sockets, ...prepared.watchers].forEach((socket) => socket.destroy());
  return {
    kind: 'done',
    ...figures,
    statuses: sent.statuses,
    drained,
    sentPerS: prepared.requests.length / (sent.sentMs / 1000),
    loop: { p99Ms: loop.percentile(99) / NS_PER_MS, maxMs: loop.max / NS_PER_MS },
    cpuUs: cpu.user + cpu.system,
    windowMs,
  };
};

serveParent('credit load', prepare, run);
