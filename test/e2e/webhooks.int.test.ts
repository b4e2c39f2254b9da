import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { signSandboxCallback } from '../../adapters/channels/sandbox.channel';
import { eventually } from '../support/eventually';
import {
  freePort,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * The merchant's walkthrough against the built service (`npm run build` first): a merchant
 * registers a webhook on a local receiver (allowed by WEBHOOK_ALLOWED_TARGETS=127.0.0.1/32),
 * pays a sandbox payment and receives a signed `payment.succeeded` that verifies with the
 * documented recipe (the official stripe package's constructEvent, and a plain HMAC); with the
 * receiver stopped the next event arrives by retry once it is back; a kill -9 of the service
 * while the receiver holds a delivery open is followed, after the restart, by the same event
 * delivered again (at least once). The metadata address is refused at registration (SSRF).
 */
const SECRET = 'webhooks-e2e-sandbox-secret-0123456789';
const WAIT_MS = 60_000;

type Delivery = { headers: IncomingMessage['headers']; body: string };
type Mode = 'ok' | 'hang';

const startReceiver = async (port: number) => {
  const received: Delivery[] = [];
  const held: ServerResponse[] = [];
  let mode: Mode = 'ok';
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (mode === 'hang') held.push(response);
      else response.writeHead(200).end('thanks');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    received,
    setMode: (next: Mode) => (mode = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

const call = async (
  baseUrl: string,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
) => {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': `e2e-${Math.random()}`,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { code: number; data: Record<string, unknown> },
  };
};

/** The documented recipe, written independently of the service's code. */
const verifiesWithPlainHmac = (delivery: Delivery, secret: string): boolean => {
  const header = String(delivery.headers['webhook-signature']);
  const fields = header.split(',').map((part) => part.split('='));
  const timestamp = fields.find(([name]) => name === 't')?.[1] ?? '';
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${delivery.body}`).digest();
  return fields
    .filter(([name]) => name === 'v1')
    .some(([, hex]) => timingSafeEqual(expected, Buffer.from(hex ?? '', 'hex')));
};

const idOf = (delivery: Delivery): string => (JSON.parse(delivery.body) as { id: string }).id;

describe('webhooks to a merchant, end to end', () => {
  let dataDir: string;
  let service: ServiceProcess | null = null;
  /** Every process started, so that a failure or timeout half-way leaves none running. */
  const started: ServiceProcess[] = [];
  let receiver: Awaited<ReturnType<typeof startReceiver>> | null = null;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-webhooks-'));
  });
  afterAll(async () => {
    for (const running of started) {
      if (running.child.exitCode !== null) continue;
      running.child.kill('SIGTERM');
      await running.exited;
    }
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers signed events, retries a stopped receiver, and survives a kill -9 mid-delivery', async () => {
    const servicePort = await freePort();
    const receiverPort = await freePort();
    const env = {
      SANDBOX_CALLBACK_SECRET: SECRET,
      WEBHOOK_ALLOWED_TARGETS: '127.0.0.1/32',
      WEBHOOK_RETRY_BASE_MS: '200',
    };
    service = await startServiceProcess(dataDir, servicePort, env);
    started.push(service);
    const { baseUrl } = service;
    const shop = await postJson(baseUrl, '/v1/clients', { clientId: 'shop', role: 'merchant' });
    const shopKey = String(shop.body.data['apiKey']);

    const ssrf = await call(baseUrl, shopKey, 'POST', '/v1/webhook-endpoints', {
      url: 'http://169.254.169.254/latest/meta-data/',
      eventTypes: ['payment.succeeded'],
    });
    expect(ssrf).toMatchObject({ status: 422, body: { code: 42275, data: { field: 'url' } } });

    receiver = await startReceiver(receiverPort);
    const registered = await call(baseUrl, shopKey, 'POST', '/v1/webhook-endpoints', {
      url: `http://127.0.0.1:${receiverPort}/hooks`,
      eventTypes: ['payment.succeeded', 'refund.succeeded'],
    });
    expect(registered.status).toBe(201);
    const endpointId = String(registered.body.data['endpointId']);
    const secret = String(registered.body.data['secret']);
    expect(secret).toMatch(/^whsec_/);
    expect(
      await call(baseUrl, shopKey, 'POST', '/v1/accounts', {
        accountId: 'shop-wallet',
        currency: 'EUR',
      }),
    ).toMatchObject({ status: 201 });

    const pay = async (orderNo: string, extra: object = {}): Promise<string> => {
      const created = await call(baseUrl, shopKey, 'POST', '/v1/payments', {
        ...extra,
        merchantOrderNo: orderNo,
        amountMinor: 1250,
        currency: 'EUR',
        channel: 'sandbox',
        subject: 'webhook walkthrough',
        creditAccountId: 'shop-wallet',
      });
      const paymentId = (created.body.data['payment'] as { paymentId: string }).paymentId;
      const raw = Buffer.from(
        JSON.stringify({
          event: 'payment.succeeded',
          paymentId,
          channelTransactionId: `tx-${orderNo}`,
          amountMinor: 1250,
          currency: 'EUR',
        }),
      );
      const callback = await fetch(`${baseUrl}/v1/channels/sandbox/callbacks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'sandbox-signature': signSandboxCallback(SECRET, raw, Date.now()),
        },
        body: raw,
      });
      expect(callback.status).toBe(200);
      return paymentId;
    };
    const deliveryFor = (paymentId: string) =>
      eventually(
        () => receiver?.received.find((delivery) => delivery.body.includes(paymentId)) ?? undefined,
        { timeoutMs: WAIT_MS, what: `a delivery for ${paymentId}`, intervalMs: 50 },
      );

    // 1. A payment, its signed event, verified as the README shows.
    const first = await pay('order-1');
    const delivered = await deliveryFor(first);
    const event = new Stripe('sk_test_unused').webhooks.constructEvent(
      delivered.body,
      String(delivered.headers['webhook-signature']),
      secret,
    ) as unknown as { id: string; type: string; data: { object: { status: string } } };
    expect(event).toMatchObject({
      type: 'payment.succeeded',
      data: { object: { status: 'succeeded' } },
    });
    expect(delivered.headers['webhook-id']).toBe(event.id);
    expect(verifiesWithPlainHmac(delivered, secret)).toBe(true);
    expect(verifiesWithPlainHmac(delivered, 'whsec_someone-else')).toBe(false);

    // 1b. A payment's own notifyUrl gets its events too, signed with the merchant's secret; a
    //     notifyUrl to the metadata address is refused.
    const refusedNotify = await call(baseUrl, shopKey, 'POST', '/v1/payments', {
      merchantOrderNo: 'order-ssrf',
      amountMinor: 100,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'ssrf',
      creditAccountId: 'shop-wallet',
      notifyUrl: 'http://169.254.169.254/latest/meta-data/',
    });
    expect(refusedNotify).toMatchObject({
      status: 422,
      body: { code: 42275, data: { field: 'notifyUrl' } },
    });
    const notifyUrl = `http://127.0.0.1:${receiverPort}/notify/order-1b`;
    const withNotify = await pay('order-1b', {
      notifyUrl,
      description: 'a mug',
      returnUrl: 'https://shop.example/done',
    });
    const merchantSecret = String(
      (await call(baseUrl, shopKey, 'GET', '/v1/webhook-secret')).body.data['secret'],
    );
    const notified = await eventually(
      () =>
        receiver?.received.find(
          (delivery) => delivery.body.includes(withNotify) && delivery.body.includes('"notifyUrl"'),
        ),
      { timeoutMs: WAIT_MS, what: 'the notifyUrl delivery', intervalMs: 50 },
    );
    await eventually(
      () =>
        (receiver?.received.filter((delivery) => delivery.body.includes(withNotify)).length ?? 0) >=
        2
          ? true
          : undefined,
      { timeoutMs: WAIT_MS, what: 'both deliveries of order-1b', intervalMs: 50 },
    );
    const signedWithMerchant = receiver.received.filter(
      (delivery) =>
        delivery.body.includes(withNotify) && verifiesWithPlainHmac(delivery, merchantSecret),
    );
    expect(signedWithMerchant).toHaveLength(1);
    expect(JSON.parse(notified.body)).toMatchObject({
      data: { object: { notifyUrl, description: 'a mug', returnUrl: 'https://shop.example/done' } },
    });

    // 2. The receiver stopped: the delivery fails (the endpoint shows it failing), then the
    //    restarted receiver gets it by retry.
    await receiver.close();
    const second = await pay('order-2');
    await eventually(
      async () => {
        const shown = await call(baseUrl, shopKey, 'GET', `/v1/webhook-endpoints/${endpointId}`);
        return shown.body.data['failingSince'] === null ? undefined : true;
      },
      { timeoutMs: WAIT_MS, what: 'the endpoint failing', intervalMs: 50 },
    );
    receiver = await startReceiver(receiverPort);
    const retried = await deliveryFor(second);
    const log = await call(
      baseUrl,
      shopKey,
      'GET',
      `/v1/webhook-events/${idOf(retried)}/deliveries`,
    );
    const [entry] = log.body.data['items'] as {
      attempts: { httpStatus: number | null; error: string | null }[];
    }[];
    expect(entry?.attempts[0]).toMatchObject({ httpStatus: null });
    expect(entry?.attempts.at(-1)).toMatchObject({ httpStatus: 200, error: null });

    // 3. kill -9 while the receiver holds the third delivery open; after the restart it arrives
    //    again, the same event id, and ends succeeded.
    receiver.setMode('hang');
    const third = await pay('order-3');
    const cutShort = await deliveryFor(third);
    service.child.kill('SIGKILL');
    await service.exited;
    receiver.setMode('ok');
    service = await startServiceProcess(dataDir, servicePort, env);
    started.push(service);
    const again = await eventually(
      () => {
        const copies = receiver?.received.filter((delivery) => delivery.body.includes(third));
        return copies !== undefined && copies.length >= 2 ? copies.at(-1) : undefined;
      },
      { timeoutMs: WAIT_MS, what: 'the third delivery again after the restart', intervalMs: 50 },
    );
    expect(idOf(again)).toBe(idOf(cutShort));
    expect(verifiesWithPlainHmac(again, secret)).toBe(true);
    await eventually(
      async () => {
        const after = await call(
          service?.baseUrl ?? '',
          shopKey,
          'GET',
          `/v1/webhook-events/${idOf(again)}/deliveries`,
        );
        const [row] = after.body.data['items'] as { status: string }[];
        return row?.status === 'succeeded' ? true : undefined;
      },
      { timeoutMs: WAIT_MS, what: 'the third delivery recorded as succeeded', intervalMs: 50 },
    );
  }, 240_000);
});
