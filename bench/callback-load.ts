import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { serveParent } from './forked-child';
import { answerOf, openSocket, requestBytes, type Delivery } from './http-wire';

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

type Prepared = { requests: Buffer[]; sockets: Socket[] };

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
        const answer = answerOf(buffer);
        if (answer.kind === 'partial') {
          pending = buffer;
          return;
        }
        if (answer.kind === 'unframed') {
          reject(new Error(`answer without Content-Length: ${answer.head}`));
          return;
        }
        // One request in flight per connection: nothing may follow the answer.
        if (buffer.length > answer.byteCount) {
          reject(new Error('unexpected bytes after an answer'));
          return;
        }
        pending = null;
        latenciesMs.push(performance.now() - sentMs);
        if (answer.status !== '200') failures += 1;
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

serveParent('callback load', prepare, run);
