import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import {
  ADMIN_KEY,
  freePort,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/** DRAIN_TIMEOUT_MS's default (bin/config-variables.ts), and the margin a loaded machine needs. */
const DRAIN_MS_MAX = 10_000;
const EXIT_MARGIN_MS = 10_000;
const SHORT_DRAIN_MS = 1500;
const SIGNAL_TIMEOUT_MS = 10_000;

type SseClient = { received: () => string; ended: Promise<void>; hangUp: () => void };

/** An SSE reader of an account that never hangs up by itself. */
const openSse = (service: ServiceProcess, accountId: string): SseClient => {
  let received = '';
  let hangUp = (): void => undefined;
  const ended = new Promise<void>((resolve, reject) => {
    const client = request(`${service.baseUrl}/v1/events/accounts/${accountId}`, {
      headers: { Authorization: `Bearer ${ADMIN_KEY}` },
    });
    hangUp = () => client.destroy();
    client.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve() : reject(error),
    );
    client.on('response', (response) => {
      response.on('data', (chunk: Buffer) => void (received += chunk.toString()));
      response.on('close', () => resolve());
    });
    client.end();
  });
  return { received: () => received, ended, hangUp };
};

/** A raw kept-alive HTTP/1.1 connection: what was written back so far, and whether it closed. */
const openRawConnection = async (service: ServiceProcess) => {
  const url = new URL(service.baseUrl);
  const socket: Socket = await new Promise((resolve, reject) => {
    const opened = connect({ host: url.hostname, port: Number(url.port) }, () => resolve(opened));
    opened.once('error', reject);
  });
  let received = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => void (received += chunk.toString()));
  socket.on('close', () => void (closed = true));
  return { socket, received: () => received, closed: () => closed };
};

const accountBody = (accountId: string): string => JSON.stringify({ accountId, currency: 'EUR' });

/** A POST whose body waits for `100 Continue`: the server has the request, its body not yet. */
const headersOfSlowPost = (body: string, idempotencyKey: string): string =>
  [
    'POST /v1/accounts HTTP/1.1',
    'Host: 127.0.0.1',
    `Authorization: Bearer ${ADMIN_KEY}`,
    `Idempotency-Key: ${idempotencyKey}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Expect: 100-continue',
    'Connection: keep-alive',
    '',
    '',
  ].join('\r\n');

const withService = async (
  env: Record<string, string>,
  work: (service: ServiceProcess) => Promise<void>,
): Promise<void> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-drain-'));
  const service = await startServiceProcess(dataDir, await freePort(), env);
  try {
    await work(service);
  } finally {
    if (service.child.exitCode === null) service.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
};

const openAccount = async (service: ServiceProcess, accountId: string): Promise<void> => {
  const opened = await postJson(service.baseUrl, '/v1/accounts', { accountId, currency: 'EUR' });
  expect(opened.status).toBe(201);
};

describe('stopping the service (drain)', () => {
  jest.setTimeout(60_000);

  it('ends an SSE stream with a last event and exits 0 within the bound on SIGTERM', async () => {
    await withService({}, async (service) => {
      await openAccount(service, 'watched');
      const sse = openSse(service, 'watched');
      await eventually(() => (sse.received().includes('event: account') ? true : undefined), {
        timeoutMs: SIGNAL_TIMEOUT_MS,
        what: 'the SSE stream sent the current view',
      });
      const stopAsked = Date.now();
      service.child.kill('SIGTERM');
      const [, exitCode] = await Promise.all([sse.ended, service.exited]);
      expect(sse.received()).toContain('event: shutdown\ndata: {"reason":"draining"}\n\n');
      expect(exitCode).toBe(0);
      expect(Date.now() - stopAsked).toBeLessThan(DRAIN_MS_MAX + EXIT_MARGIN_MS);
    });
  });

  it('finishes the request in flight, then answers 503 draining with Connection: close on its kept-alive connection', async () => {
    await withService({}, async (service) => {
      await openAccount(service, 'watched');
      // The drain's first step ends SSE streams: their last event is the signal it has begun.
      const sse = openSse(service, 'watched');
      await eventually(() => (sse.received().includes('event: account') ? true : undefined), {
        timeoutMs: SIGNAL_TIMEOUT_MS,
        what: 'the SSE stream sent the current view',
      });
      const kept = await openRawConnection(service);
      const body = accountBody('late');
      kept.socket.write(headersOfSlowPost(body, 'drain-late'));
      await eventually(() => (kept.received().includes('100 Continue') ? true : undefined), {
        timeoutMs: SIGNAL_TIMEOUT_MS,
        what: 'the server took the request in (100 Continue)',
      });

      service.child.kill('SIGTERM');
      await eventually(() => (sse.received().includes('event: shutdown') ? true : undefined), {
        timeoutMs: SIGNAL_TIMEOUT_MS,
        what: 'the drain began (the SSE stream got its last event)',
      });
      kept.socket.write(body);
      await eventually(() => (kept.received().includes('HTTP/1.1 201') ? true : undefined), {
        timeoutMs: SIGNAL_TIMEOUT_MS,
        what: 'the request in flight finished',
      });
      kept.socket.write('GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await eventually(() => (kept.closed() ? true : undefined), {
        timeoutMs: SIGNAL_TIMEOUT_MS,
        what: 'the server closed the kept-alive connection',
      });
      const second = kept.received().slice(kept.received().indexOf('HTTP/1.1 201') + 1);
      expect(second).toMatch(/HTTP\/1\.1 503 /);
      expect(second).toMatch(/\r\nconnection: close\r\n/i);
      expect(second).toMatch(/\r\nretry-after: 1\r\n/i);
      expect(second).toContain('"code":50303');
      expect(await service.exited).toBe(0);
    });
  });

  it('closes a request that never finishes once DRAIN_TIMEOUT_MS has passed, and exits 0', async () => {
    await withService({ DRAIN_TIMEOUT_MS: String(SHORT_DRAIN_MS) }, async (service) => {
      const stuck = await openRawConnection(service);
      stuck.socket.write(headersOfSlowPost(accountBody('never'), 'drain-never'));
      await eventually(() => (stuck.received().includes('100 Continue') ? true : undefined), {
        timeoutMs: SIGNAL_TIMEOUT_MS,
        what: 'the server took the request in (100 Continue)',
      });
      const stopAsked = Date.now();
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      const stopMs = Date.now() - stopAsked;
      expect(stopMs).toBeGreaterThanOrEqual(SHORT_DRAIN_MS);
      expect(stopMs).toBeLessThan(SHORT_DRAIN_MS + EXIT_MARGIN_MS);
      expect(stuck.closed()).toBe(true);
    });
  });

  it('logs a client hanging up its SSE stream at info, not as an error', async () => {
    await withService({ LOG_LEVEL: 'info' }, async (service) => {
      await openAccount(service, 'watched');
      const sse = openSse(service, 'watched');
      await eventually(() => (sse.received().includes('event: account') ? true : undefined), {
        timeoutMs: SIGNAL_TIMEOUT_MS,
        what: 'the SSE stream sent the current view',
      });
      sse.hangUp();
      const line = await eventually(
        () =>
          service
            .output()
            .split('\n')
            .find((text) => text.includes('"client_hung_up"')),
        { timeoutMs: SIGNAL_TIMEOUT_MS, what: 'the hang-up logged' },
      );
      expect(JSON.parse(line)).toMatchObject({
        level: 'info',
        message: 'client_hung_up',
        path: '/v1/events/accounts/watched',
      });
      const errors = service
        .output()
        .split('\n')
        .filter((text) => text.includes('"level":"error"'));
      expect(errors).toEqual([]);
    });
  });
});
