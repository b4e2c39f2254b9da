import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signSandboxCallback } from '../../adapters/channels/sandbox.channel';
import { eventually } from '../support/eventually';
import { freePort, startServiceProcess, type ServiceProcess } from '../support/service-process';

/**
 * The service's own alert webhook (WeCom format here): a burst of forged sandbox callbacks gives
 * one POST to a local receiver naming the count, after the coalescing window; a second burst soon
 * after is held until ALERT_REPEAT_MS has passed since the first POST and then posted once with
 * its own count. Neither the webhook's token nor the sandbox secret appears in a body.
 */
const SANDBOX_SECRET = 'alert-test-sandbox-secret';
const WEBHOOK_TOKEN = 'webhook-token-0123456789';
const WINDOW_MS = 3000;
const REPEAT_MS = 6000;
const SIGNAL_TIMEOUT_MS = 20_000;

type Received = { atMs: number; contentType: string; body: string };

const forgedCallbacks = async (baseUrl: string, count: number): Promise<number[]> => {
  const raw = Buffer.from(
    JSON.stringify({
      event: 'payment.succeeded',
      paymentId: '0190a0b2-0000-7000-8000-000000000001',
      channelTransactionId: 'forged-tx',
      amountMinor: 100,
      currency: 'EUR',
    }),
  );
  const signature = signSandboxCallback('not-the-sandbox-secret', raw, Date.now());
  return Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(`${baseUrl}/v1/channels/sandbox/callbacks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sandbox-signature': signature },
        body: raw,
      });
      await response.arrayBuffer();
      return response.status;
    }),
  );
};

describe('the alert webhook', () => {
  jest.setTimeout(60_000);
  const received: Received[] = [];
  let receiver: Server;
  let dataDir = '';
  let service: ServiceProcess;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({
          atMs: Date.now(),
          contentType: request.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
        response.end('{"errcode":0,"errmsg":"ok"}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-alerts-'));
    service = await startServiceProcess(dataDir, await freePort(), {
      SANDBOX_CALLBACK_SECRET: SANDBOX_SECRET,
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/cgi-bin/webhook/send?key=${WEBHOOK_TOKEN}`,
      ALERT_WEBHOOK_FORMAT: 'wecom',
      ALERT_WINDOW_MS: String(WINDOW_MS),
      ALERT_REPEAT_MS: String(REPEAT_MS),
      LOG_LEVEL: 'info',
    });
  });

  afterAll(async () => {
    if (service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await new Promise((resolve) => receiver.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('posts one alert per burst of forged signatures, naming the count, rate-limited per kind', async () => {
    const firstBurstAtMs = Date.now();
    expect(new Set(await forgedCallbacks(service.baseUrl, 20))).toEqual(new Set([401]));
    await eventually(() => (received.length >= 1 ? true : undefined), {
      timeoutMs: SIGNAL_TIMEOUT_MS,
      what: 'the first alert POST',
    });
    expect(received).toHaveLength(1);
    const first = received[0] ?? { atMs: 0, contentType: '', body: '{}' };
    expect(first.contentType).toBe('application/json');
    // Posted at the end of the window, not at the first forged signature.
    expect(first.atMs - firstBurstAtMs).toBeGreaterThanOrEqual(WINDOW_MS - 100);
    expect(JSON.parse(first.body)).toEqual({
      msgtype: 'text',
      text: {
        content: expect.stringMatching(
          /^\[ledger-service\] 20 callback signature failures in \d+ s \(sandbox: 20\)$/,
        ),
      },
    });

    expect(new Set(await forgedCallbacks(service.baseUrl, 6))).toEqual(new Set([401]));
    await eventually(() => (received.length >= 2 ? true : undefined), {
      timeoutMs: SIGNAL_TIMEOUT_MS,
      what: 'the second alert POST',
    });
    expect(received).toHaveLength(2);
    const second = received[1] ?? { atMs: 0, contentType: '', body: '{}' };
    // Held until REPEAT_MS after the first POST (give or take the first POST's own latency),
    // beyond the window that would have ended it sooner.
    expect(second.atMs - first.atMs).toBeGreaterThanOrEqual(REPEAT_MS - 1000);
    expect(JSON.parse(second.body)).toMatchObject({
      text: { content: expect.stringContaining('6 callback signature failures') },
    });
    for (const { body } of received) {
      expect(body).not.toContain(WEBHOOK_TOKEN);
      expect(body).not.toContain(SANDBOX_SECRET);
    }
    expect(service.output()).not.toContain(WEBHOOK_TOKEN);
    expect(service.output()).toContain('"message":"alert_posted"');
  });
});
