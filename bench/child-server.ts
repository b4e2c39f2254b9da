import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processCpu, type ProcessCpu } from './process-cpu';

export const BENCH_HOST = '127.0.0.1';
/** Generous: on a shared 2-core machine at a load of 20+ a cold start took 45 s (2026-12-06). */
const READY_TIMEOUT_MS = 120_000;
const READY_POLL_MS = 50;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_LINES_MAX = 40;
const LOG_EXCERPT_LINES = 5;

/** A server under test, running as a child process on a loopback port. */
export type ChildServer = {
  baseUrl: string;
  /** The child's CPU time so far (Linux); null where it cannot be read. */
  cpu: () => ProcessCpu | null;
  /** SIGTERM, SIGKILL after a grace period, then removes the temp data dir. Idempotent. */
  stop: () => Promise<void>;
};

/** Asks the kernel for a free loopback port (released at once, reused by the child). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, BENCH_HOST, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });

const waitForHealth = async (
  baseUrl: string,
  child: ChildProcess,
  logTail: () => string,
  timeoutMs: number,
): Promise<void> => {
  const deadlineMs = Date.now() + timeoutMs;
  while (Date.now() < deadlineMs) {
    if (child.exitCode !== null) {
      throw new Error(`server exited (${child.exitCode}):\n${logTail()}`);
    }
    const healthy = await fetch(`${baseUrl}/v1/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  throw new Error(`server not healthy after ${timeoutMs} ms:\n${logTail()}`);
};

/** Keeps only the tail of the child's log: enough to explain a crash, bounded under load. */
const captureLog = (child: ChildProcess) => {
  const lines: string[] = [];
  let lineCount = 0;
  const keep = (text: string): void => {
    const added = text.split('\n').filter((line) => line !== '');
    lineCount += added.length;
    lines.push(...added);
    lines.splice(0, Math.max(0, lines.length - LOG_TAIL_LINES_MAX));
  };
  child.stdout?.on('data', (chunk: Buffer) => keep(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => keep(chunk.toString('utf8')));
  child.once('error', (error) => keep(`spawn failed: ${error.message}`));
  return {
    lineCount: () => lineCount,
    tail: (lineCountMax: number) => lines.slice(-lineCountMax).join('\n'),
  };
};

const exited = (child: ChildProcess, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

/**
 * The throughput benches measure the service, not its rate limits (300 requests/s per client by
 * default): limits are off unless a bench's env sets them.
 */
const UNLIMITED = { RATE_LIMIT_CLIENT: 'off', RATE_LIMIT_IP: 'off', RATE_LIMIT_HOT_KEY: 'off' };

/**
 * Starts `node <script> [...args]` with PORT, HOST and DATA_DIR (a fresh temp dir) added to env,
 * and waits until GET /v1/health answers. nodeFlags go before the script (e.g. --cpu-prof).
 */
export const startChildServer = async (options: {
  script: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  nodeFlags: readonly string[];
  /** A temp data dir the caller prepared (removed at stop like a fresh one). */
  dataDir?: string;
  /** How long the start may take (a prepared log to fold); default 15 s. */
  readyTimeoutMs?: number;
}): Promise<ChildServer> => {
  const port = await freePort();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  const baseUrl = `http://${BENCH_HOST}:${port}`;
  const placement = { PORT: String(port), HOST: BENCH_HOST, DATA_DIR: dataDir };
  const env = { ...process.env, ...UNLIMITED, ...options.env, ...placement };
  const argv = [...options.nodeFlags, options.script, ...options.args];
  const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = captureLog(child);
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        const how = child.exitCode ?? child.signalCode;
        process.stderr.write(`  server had exited (${String(how)}) before it was stopped\n`);
      }
      // Warnings under load (overload, retries) explain odd figures: show that there were some.
      if (log.lineCount() > 0) {
        const excerpt = log.tail(LOG_EXCERPT_LINES);
        process.stderr.write(`  server logged ${log.lineCount()} lines, last:\n${excerpt}\n`);
      }
      child.kill('SIGTERM');
      if (!(await exited(child, STOP_GRACE_MS))) {
        child.kill('SIGKILL');
        await exited(child, STOP_GRACE_MS);
      }
      rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    await waitForHealth(baseUrl, child, () => log.tail(LOG_TAIL_LINES_MAX), timeoutMs);
  } catch (error: unknown) {
    await stop();
    throw error;
  }
  return { baseUrl, stop, cpu: () => processCpu(child.pid) };
};
