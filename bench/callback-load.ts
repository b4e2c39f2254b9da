import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * The load generator of bench/channels.bench.ts, run as a child process (fork) so that its HTTP
 * client's CPU is not counted as the service's. It is not the system under test but shares the
 * cores with it, so it is made as cheap as an HTTP/1.1 client can be:
 *
 * - `prepare` (before the timed window): every delivery, already built and signed by the bench,
 *   is serialised once into the exact request bytes (request line, headers, body), and
 *   `concurrency` keep-alive connections are opened;
 * - `run` (the timed window): each connection writes its next prepared request as soon as the
 *   previous answer is complete (one request in flight per connection, as a channel's own
 *   notifier does; no pipelining), and reads the answer's status line and `Content-Length`.
 *
 * It answers with the latencies, the failures (any status but 200) and its own CPU time over the
 * window. An answer it cannot frame (no `Content-Length`) fails the run loudly.
 */
export type Delivery = { body: string; headers: Record<string, string> };
export type LoadRequest =
  | { kind: 'prepare'; url: string; deliveries: readonly Delivery[]; concurrency: number }
  | { kind: 'run' };
export type LoadReply =
  | { kind: 'ready' }
  | {
      kind: 'done';
      elapsedMs: number;
      /** Sorted ascending. */
      latenciesMs: number[];
      failures: number;
      cpuUs: number;
    };

/** Headers every request carries besides the delivery's own, as a channel's notifier sends them. */
const COMMON_HEADERS = 'User-Agent: Mozilla/4.0\r\nAccept: */*\r\nConnection: keep-alive\r\n';
const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

const requestBytes = (url: URL, { body, headers }: Delivery): Buffer => {
  const bodyBytes = Buffer.from(body, 'utf8');
  const lines = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const head =
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n${COMMON_HEADERS}${lines}` +
    `Content-Length: ${bodyBytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bodyBytes]);
};

type Prepared = { requests: Buffer[]; sockets: Socket[] };

const openSocket = (url: URL): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });

const prepare = async (request: Extract<LoadRequest, { kind: 'prepare' }>): Promise<Prepared> => {
  const url = new URL(request.url);
  const requests = request.deliveries.map((delivery) => requestBytes(url, delivery));
  const sockets = await Promise.all(
    Array.from({ length: Math.min(request.concurrency, requests.length) }, () => openSocket(url)),
  );
  return { requests, sockets };
};

/** Posts every prepared request, `sockets.length` in flight; resolves when all are answered. */
const run = ({ requests, sockets }: Prepared): Promise<Extract<LoadReply, { kind: 'done' }>> =>
  new Promise((resolve, reject) => {
    let next = 0;
    let answered = 0;
    let failures = 0;
    const latenciesMs: number[] = [];
    const cpuBefore = process.cpuUsage();
    const startedMs = performance.now();
    const finish = () => {
      const elapsedMs = performance.now() - startedMs;
      const cpu = process.cpuUsage(cpuBefore);
      for (const socket of sockets) socket.destroy();
      latenciesMs.sort((left, right) => left - right);
      resolve({ kind: 'done', elapsedMs, latenciesMs, failures, cpuUs: cpu.user + cpu.system });
    };
    for (const socket of sockets) {
      let pending: Buffer | null = null;
      let sentMs = 0;
      const sendNext = () => {
        const bytes = requests[next];
        if (bytes === undefined) return;
        next += 1;
        sentMs = performance.now();
        socket.write(bytes);
      };
      socket.on('data', (chunk: Buffer) => {
        const buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
        const headEnd = buffer.indexOf(HEAD_END);
        if (headEnd < 0) {
          pending = buffer;
          return;
        }
        const head = buffer.toString('latin1', 0, headEnd);
        const length = CONTENT_LENGTH.exec(head)?.[1];
        if (length === undefined) {
          reject(new Error(`answer without Content-Length: ${head}`));
          return;
        }
        const total = headEnd + HEAD_END.length + Number(length);
        if (buffer.length < total) {
          pending = buffer;
          return;
        }
        // One request in flight per connection: nothing may follow the answer.
        if (buffer.length > total) {
          reject(new Error('unexpected bytes after an answer'));
          return;
        }
        pending = null;
        latenciesMs.push(performance.now() - sentMs);
        if (head.slice(9, 12) !== '200') failures += 1;
        answered += 1;
        if (answered === requests.length) finish();
        else sendNext();
      });
      socket.on('error', reject);
      socket.on('close', () => {
        if (answered < requests.length)
          reject(new Error('a connection closed before the last answer'));
      });
      sendNext();
    }
  });

let prepared: Prepared | null = null;
const reply = (message: LoadReply) => process.send?.(message);
const fail = (error: unknown) => {
  process.stderr.write(`callback load failed: ${String(error)}\n`);
  process.exit(1);
};

process.on('message', (request: LoadRequest) => {
  if (request.kind === 'prepare') {
    prepare(request).then((ready) => {
      prepared = ready;
      reply({ kind: 'ready' });
    }, fail);
    return;
  }
  if (prepared === null) return fail(new Error('run before prepare'));
  const current = prepared;
  prepared = null;
  run(current).then(reply, fail);
});
process.on('disconnect', () => process.exit(0));
