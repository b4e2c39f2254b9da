import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually } from './eventually';

/** The built service (`npm run build` first) as a child process on a free loopback port. */
export type ServiceProcess = {
  baseUrl: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
};

/** Test mode (its prefix says so): the e2e tests pay through the sandbox with it. */
export const ADMIN_KEY = 'lsk_test_admin-key-0123456789abcdef';
// A deadline, not a wait: a healthy start answers in seconds; at load average 20 on two cores a cold
// start took 17 s and the 15 s deadline failed runs that had nothing wrong.
const READY_TIMEOUT_MS = 60_000;

/**
 * Ports for services the tests start, restart on the same port, or hand to nats-server. They come
 * from a range below Linux's ephemeral range (32768 and up), one slice per Jest worker: a port a
 * test holds while its service restarts can then be handed neither to another worker nor to any
 * `listen(0)` or outgoing connection.
 */
const PORT_RANGE_START = 20_000;
const PORTS_PER_WORKER = 3_000;
const WORKER_SLICES = 4;
let nextPortOffset = Math.floor(Math.random() * PORTS_PER_WORKER);

const canListen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

export const freePort = async (): Promise<number> => {
  const slice = (Number(process.env['JEST_WORKER_ID'] ?? '1') - 1) % WORKER_SLICES;
  for (let attempt = 0; attempt < PORTS_PER_WORKER; attempt += 1) {
    const port = PORT_RANGE_START + slice * PORTS_PER_WORKER + (nextPortOffset % PORTS_PER_WORKER);
    nextPortOffset += 1;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in worker slice ${slice}`);
};

/** True when process `pid` itself holds the listening TCP socket on `port` (Linux /proc). */
const holdsListeningSocket = (pid: number, port: number): boolean => {
  const socketInodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode !== undefined) socketInodes.add(inode);
    } catch {
      // The descriptor closed between the listing and the read.
    }
  }
  const portSuffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const LISTEN_STATE = '0A';
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .some(
        (fields) =>
          fields[1]?.endsWith(portSuffix) === true &&
          fields[3] === LISTEN_STATE &&
          socketInodes.has(fields[9] ?? ''),
      ),
  );
};

export const startServiceProcess = async (
  dataDir: string,
  port: number,
  env: Record<string, string> = {},
  options: { readyTimeoutMs?: number } = {},
): Promise<ServiceProcess> => {
  const child = spawn(process.execPath, [join(__dirname, '../../dist/bin/ledger.js'), 'serve'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LEDGER_ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      // The crash and fault tests drive load with one key: limits would only add 429s to them.
      RATE_LIMIT_CLIENT: 'off',
      RATE_LIMIT_IP: 'off',
      RATE_LIMIT_HOT_KEY: 'off',
      RATE_LIMIT_CALLBACK: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
        // Healthy, and answered by this child: not by another test's service on a reused port.
        const healthy = (await fetch(`${baseUrl}/v1/health`)).ok;
        return healthy && child.pid !== undefined && holdsListeningSocket(child.pid, port)
          ? true
          : undefined;
      },
      {
        timeoutMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
        what: 'the service healthy',
        intervalMs: 100,
      },
    );
  } catch (error: unknown) {
    child.kill('SIGKILL'); // A service that never became healthy is not left running.
    throw new Error(`service did not start (${String(error)}):\n${chunks.join('')}`);
  }
  return { baseUrl, child, output: () => chunks.join(''), exited };
};

let keyCounter = 0;

/** A POST as a client would send it: admin key, fresh Idempotency-Key, JSON body. */
export const postJson = async (
  baseUrl: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: { code: number; data: Record<string, unknown> } }> => {
  keyCounter += 1;
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      'idempotency-key': `k-${process.pid}-${keyCounter}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { code: number; data: Record<string, unknown> },
  };
};

export const getJson = async (
  baseUrl: string,
  path: string,
): Promise<{ status: number; body: { code: number; data: Record<string, unknown> } }> => {
  const response = await fetch(`${baseUrl}${path}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  return {
    status: response.status,
    body: (await response.json()) as { code: number; data: Record<string, unknown> },
  };
};

/** The status of a payment's top-up transfer (`topup-<paymentId>`), null while there is none. */
export const topUpTransferStatus = async (
  baseUrl: string,
  paymentId: string,
): Promise<string | null> => {
  const stored = await getJson(baseUrl, `/v1/transfers/topup-${paymentId}`);
  const transfer = stored.body.data?.['transfer'] as { status: string } | undefined;
  return stored.status === 200 ? (transfer?.status ?? null) : null;
};
