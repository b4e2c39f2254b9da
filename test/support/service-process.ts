import { spawn, type ChildProcess } from 'node:child_process';
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

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
const READY_TIMEOUT_MS = 15_000;

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });

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
        return (await fetch(`${baseUrl}/v1/health`)).ok ? true : undefined;
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
