import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signSandboxCallback } from '../../adapters/channels/sandbox.channel';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { EVENTS_FILE_NAME } from '../../bin/event-store';
import { SERVICE_FILE_NAME } from '../../bin/service';
import {
  freePort,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * kill -9 of the built service in the middle of signed sandbox callbacks: the replay key now
 * commits in the payment's own append, so every callback the channel saw acknowledged must, after
 * a restart on the same data dir, have its payment paid exactly once and be recognised when
 * delivered again (200, replayed, nothing applied). The sandbox's own books must still hold each of
 * those orders as paid.
 */
const SECRET = 'callback-crash-test-secret-0123456789';
const PAYMENT_COUNT = 150;
const CONCURRENCY = 16;
const KILL_AFTER_ACKNOWLEDGED = 40;

type Delivery = { paymentId: string; raw: Buffer; signature: string };
type CallbackAnswer = { status: number; replayed: unknown; duplicate: unknown };

const createPayment = async (baseUrl: string, index: number): Promise<string> => {
  const response = await postJson(baseUrl, '/v1/payments', {
    merchantOrderNo: `o${index}`,
    amountMinor: 100 + index,
    currency: 'EUR',
    channel: 'sandbox',
    subject: 'top-up',
    creditAccountId: 'wallet',
  });
  const payment = response.body.data['payment'] as { paymentId: string } | undefined;
  if (payment === undefined) throw new Error(`create payment o${index}: ${response.status}`);
  return payment.paymentId;
};

const deliveryOf = (paymentId: string, index: number): Delivery => {
  const raw = Buffer.from(
    JSON.stringify({
      event: 'payment.succeeded',
      paymentId,
      channelTransactionId: `tx-${index}`,
      amountMinor: 100 + index,
      currency: 'EUR',
    }),
  );
  return { paymentId, raw, signature: signSandboxCallback(SECRET, raw, Date.now()) };
};

const deliver = async (baseUrl: string, delivery: Delivery): Promise<CallbackAnswer> => {
  const response = await fetch(`${baseUrl}/v1/channels/sandbox/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sandbox-signature': delivery.signature },
    body: delivery.raw,
  });
  const body = (await response.json()) as { data?: { replayed?: unknown; duplicate?: unknown } };
  return {
    status: response.status,
    replayed: body.data?.replayed,
    duplicate: body.data?.duplicate,
  };
};

let dataDir: string;
let running: ServiceProcess | null = null;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'ledger-callback-crash-'));
});
afterAll(async () => {
  if (running !== null && running.child.exitCode === null) {
    running.child.kill('SIGTERM');
    await running.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('channel callbacks: kill -9 mid-load', () => {
  jest.setTimeout(90_000);

  it('keeps every acknowledged callback applied once and its replay key remembered', async () => {
    const port = await freePort();
    const env = { SANDBOX_CALLBACK_SECRET: SECRET };
    const first = await startServiceProcess(dataDir, port, env);
    running = first;
    await postJson(first.baseUrl, '/v1/accounts', { accountId: 'wallet', currency: 'EUR' });
    const deliveries: Delivery[] = [];
    for (let index = 0; index < PAYMENT_COUNT; index += 1)
      deliveries.push(deliveryOf(await createPayment(first.baseUrl, index), index));

    const acknowledged: Delivery[] = [];
    let next = 0;
    let killed = false;
    const worker = async (): Promise<void> => {
      while (!killed && next < deliveries.length) {
        const delivery = deliveries[next++];
        if (delivery === undefined) return;
        try {
          const answer = await deliver(first.baseUrl, delivery);
          if (answer.status === 200) acknowledged.push(delivery);
        } catch {
          return; // The connection died with the process: this one was never acknowledged.
        }
        if (acknowledged.length >= KILL_AFTER_ACKNOWLEDGED && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await first.exited;
    expect(killed).toBe(true);
    expect(acknowledged.length).toBeLessThan(PAYMENT_COUNT);

    const second = await startServiceProcess(dataDir, port, env);
    running = second;
    const replays = await Promise.all(
      acknowledged.map((delivery) => deliver(second.baseUrl, delivery)),
    );
    expect(new Set(replays.map((answer) => JSON.stringify(answer)))).toEqual(
      new Set([JSON.stringify({ status: 200, replayed: true, duplicate: true })]),
    );
    second.child.kill('SIGTERM');
    await second.exited;

    const store = createSqliteEventStore({ path: join(dataDir, EVENTS_FILE_NAME) });
    try {
      for (const { paymentId } of acknowledged) {
        const events = await store.readStream(`payment-${paymentId}`, {
          fromRevision: 0,
          direction: 'forwards',
          eventCountMax: 100,
        });
        const succeeded = events.filter((event) => event.type === 'PaymentSucceeded');
        expect([paymentId, succeeded.length]).toEqual([paymentId, 1]);
      }
    } finally {
      await store.close();
    }
    const books = openSqliteDatabase(join(dataDir, SERVICE_FILE_NAME));
    try {
      const statusOf = books.prepare<[string], { status: string }>(
        'SELECT status FROM sandbox_orders WHERE payment_id = ?',
      );
      const statuses = acknowledged.map(({ paymentId }) => [
        paymentId,
        statusOf.get(paymentId)?.status,
      ]);
      expect(statuses).toEqual(acknowledged.map(({ paymentId }) => [paymentId, 'succeeded']));
    } finally {
      books.close();
    }
  });
});
