import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_HOST, freePort } from './child-server';

/**
 * A real nats-server with JetStream on a free loopback port and a temporary store dir, for the
 * saga benchmarks. test/support/nats-server.ts does the same for tests, but the bench build
 * (tsconfig.build.json) does not compile test/, so this small copy lives here.
 */
type BenchNatsServer = {
  url: string;
  /** SIGTERM, SIGKILL after a grace period, then removes the store dir. Idempotent. */
  stop: () => Promise<void>;
};

const NATS_SERVER_BINARY = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';
const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 50;
const STOP_GRACE_MS = 3_000;

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ port, host: BENCH_HOST }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const exited = (child: ChildProcess, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

export const startBenchNatsServer = async (): Promise<BenchNatsServer> => {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'ledger-bench-nats-'));
  const args = ['-js', '-sd', storeDir, '-a', BENCH_HOST, '-p', String(port)];
  const child = spawn(NATS_SERVER_BINARY, args, { stdio: 'ignore' });
  let spawnFailed = false;
  child.once('error', () => (spawnFailed = true));
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (spawnFailed) return rmSync(storeDir, { recursive: true, force: true });
      child.kill('SIGTERM');
      if (!(await exited(child, STOP_GRACE_MS))) {
        child.kill('SIGKILL');
        await exited(child, STOP_GRACE_MS);
      }
      rmSync(storeDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const deadlineMs = Date.now() + READY_TIMEOUT_MS;
  while (!(await portOpen(port))) {
    if (Date.now() > deadlineMs || child.exitCode !== null || spawnFailed) {
      await stop();
      throw new Error(`nats-server (${NATS_SERVER_BINARY}) did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  return { url: `nats://${BENCH_HOST}:${port}`, stop };
};
