import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually';
import { freePort } from './service-process';

/** A real nats-server with JetStream on a free loopback port and a temporary store dir. */
export type NatsServer = {
  url: string;
  storeDir: string;
  stop: () => Promise<void>;
  /** Stops and starts again on the same port and store. */
  restart: (options?: { wipeStore: boolean }) => Promise<void>;
};

const NATS_SERVER_BINARY = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';
const READY_TIMEOUT_MS = 10_000;

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connectTcp({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export const startNatsServer = async (): Promise<NatsServer> => {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'nats-js-'));
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    const started = spawn(
      NATS_SERVER_BINARY,
      ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
      { stdio: 'ignore' },
    );
    child = started;
    await eventually(
      async () => {
        if (started.exitCode !== null) throw new Error(`exited with ${started.exitCode}`);
        return (await portOpen(port)) ? true : undefined;
      },
      { timeoutMs: READY_TIMEOUT_MS, what: 'nats-server listening', intervalMs: 50 },
    );
  };
  const halt = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    stop: async () => {
      await halt();
      rmSync(storeDir, { recursive: true, force: true });
    },
    restart: async (options = { wipeStore: false }) => {
      await halt();
      if (options.wipeStore) rmSync(join(storeDir, 'jetstream'), { recursive: true, force: true });
      await launch();
    },
  };
};
