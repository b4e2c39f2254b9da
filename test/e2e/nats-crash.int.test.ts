import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signSandboxCallback } from '../../adapters/channels/sandbox.channel';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { auditBalances } from '../../bin/audit-cli';
import { EVENTS_FILE_NAME } from '../../bin/event-store';
import { eventually } from '../support/eventually';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import {
  freePort,
  getJson,
  postJson,
  startServiceProcess,
  topUpTransferStatus,
  type ServiceProcess,
} from '../support/service-process';
import { creditCount } from '../sagas/support/saga-harness';

/**
 * kill -9 of the built service (NATS_URL set, a real nats-server) in the middle of sandbox
 * payments, their signed success callbacks and refunds; after a restart on the same data dir
 * every top-up and refund saga ends completed or compensated, each paid payment is credited
 * exactly once, each wallet holds Σ paid − Σ refunded, and Σ balances per currency = 0.
 */
const SECRET = 'nats-crash-test-secret-0123456789';
const WALLET_COUNT = 8;
const PAYMENT_COUNT = 160;
const CONCURRENCY = 16;
const KILL_AFTER_PAID = 60;
const REFUND_EVERY = 4;
const REFUND_MINOR = 40;
const SETTLE_TIMEOUT_MS = 30_000;

const amountOf = (index: number): number => 100 + index;
const walletOf = (index: number): string => `w${index % WALLET_COUNT}`;
const refunded = (index: number): boolean => index % REFUND_EVERY === 0;

const createPayment = async (baseUrl: string, index: number): Promise<string> => {
  const body = {
    merchantOrderNo: `o${index}`,
    amountMinor: amountOf(index),
    currency: 'EUR',
    channel: 'sandbox',
    subject: 'top-up',
    creditAccountId: walletOf(index),
  };
  const response = await postJson(baseUrl, '/v1/payments', body);
  const payment = response.body.data['payment'] as { paymentId: string } | undefined;
  if (payment === undefined) throw new Error(`create payment o${index}: ${response.status}`);
  return payment.paymentId;
};

/** The sandbox's success callback, signed as the channel signs it. */
const paySandbox = async (baseUrl: string, paymentId: string, index: number): Promise<number> => {
  const raw = Buffer.from(
    JSON.stringify({
      event: 'payment.succeeded',
      paymentId,
      channelTransactionId: `tx-${index}`,
      amountMinor: amountOf(index),
      currency: 'EUR',
    }),
  );
  const response = await fetch(`${baseUrl}/v1/channels/sandbox/callbacks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'sandbox-signature': signSandboxCallback(SECRET, raw, Date.now()),
    },
    body: raw,
  });
  return response.status;
};

const refund = (baseUrl: string, paymentId: string) =>
  postJson(baseUrl, `/v1/payments/${paymentId}/refunds`, {
    refundId: 'r1',
    amountMinor: REFUND_MINOR,
  });

/** One payment's whole client-side flow; idempotent, so it can run again after the restart. */
const flow = async (baseUrl: string, index: number): Promise<string> => {
  const paymentId = await createPayment(baseUrl, index);
  const status = await paySandbox(baseUrl, paymentId, index);
  if (status !== 200) throw new Error(`callback for o${index}: ${status}`);
  if (refunded(index)) {
    const response = await refund(baseUrl, paymentId);
    if (response.status >= 300) throw new Error(`refund for o${index}: ${response.status}`);
  }
  return paymentId;
};

const sagaCount = async (baseUrl: string, name: string, status: string): Promise<number> =>
  (await getJson(baseUrl, `/v1/sagas?name=${name}&status=${status}&page_size=1`)).body.data[
    'total_count'
  ] as number;

const sagaStatus = async (
  baseUrl: string,
  name: string,
  sagaId: string,
): Promise<string | null> => {
  const response = await getJson(baseUrl, `/v1/sagas/${name}/${sagaId}`);
  return response.status === 200 ? (response.body.data['saga'] as { status: string }).status : null;
};

/** Waits until every payment is credited and every refund completed or compensated. */
const waitSettled = async (
  baseUrl: string,
  paymentIds: readonly string[],
  refundCount: number,
): Promise<void> => {
  await eventually(
    async () => {
      // The credit commits with the payment's success (no top_up saga): its transfer is posted.
      const statuses = await Promise.all(paymentIds.map((id) => topUpTransferStatus(baseUrl, id)));
      const topUps = statuses.filter((status) => status === 'posted').length;
      const refunds =
        (await sagaCount(baseUrl, 'refund', 'completed')) +
        (await sagaCount(baseUrl, 'refund', 'compensated'));
      if (topUps !== PAYMENT_COUNT || refunds !== refundCount)
        throw new Error(`${topUps}/${PAYMENT_COUNT} top-ups, ${refunds}/${refundCount} refunds`);
      return true;
    },
    { timeoutMs: SETTLE_TIMEOUT_MS, what: 'every saga settled', intervalMs: 250 },
  );
};

let nats: NatsServer;
let dataDir: string;
let running: ServiceProcess | null = null;

beforeAll(async () => {
  nats = await startNatsServer();
  dataDir = mkdtempSync(join(tmpdir(), 'ledger-nats-crash-'));
});
afterAll(async () => {
  if (running !== null && running.child.exitCode === null) {
    running.child.kill('SIGTERM');
    await running.exited;
  }
  await nats.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('sagas on NATS: kill -9 of the service mid-flow', () => {
  jest.setTimeout(60_000);

  it('completes or compensates every saga and credits each paid payment exactly once', async () => {
    const port = await freePort();
    const env = { NATS_URL: nats.url, SANDBOX_CALLBACK_SECRET: SECRET };
    const first = await startServiceProcess(dataDir, port, env);
    running = first;
    for (let wallet = 0; wallet < WALLET_COUNT; wallet += 1) {
      const opened = await postJson(first.baseUrl, '/v1/accounts', {
        accountId: `w${wallet}`,
        currency: 'EUR',
        constraint: 'debits_must_not_exceed_credits',
      });
      expect(opened.status).toBe(201);
    }

    let next = 0;
    let paidCount = 0;
    let killed = false;
    const worker = async (): Promise<void> => {
      while (!killed && next < PAYMENT_COUNT) {
        const index = next++;
        try {
          await flow(first.baseUrl, index);
        } catch {
          return; // The process died under this request: the restart replays the flow.
        }
        paidCount += 1;
        if (paidCount >= KILL_AFTER_PAID && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await first.exited;
    expect(killed).toBe(true);
    expect(paidCount).toBeLessThan(PAYMENT_COUNT);

    const second = await startServiceProcess(dataDir, port, env);
    running = second;
    const paymentIds: string[] = [];
    for (let index = 0; index < PAYMENT_COUNT; index += 1)
      paymentIds.push(await flow(second.baseUrl, index));
    const refundedIndexes = paymentIds.map((_, index) => index).filter(refunded);
    await waitSettled(second.baseUrl, paymentIds, refundedIndexes.length);

    expect(await sagaCount(second.baseUrl, 'top_up', 'compensated')).toBe(0);
    for (const status of ['failed', 'dead_lettered', 'running']) {
      expect([
        status,
        await sagaCount(second.baseUrl, 'top_up', status),
        await sagaCount(second.baseUrl, 'refund', status),
      ]).toEqual([status, 0, 0]);
    }
    const expectedMinor = new Map<string, number>();
    for (const [index, paymentId] of paymentIds.entries()) {
      const refundStatus = refunded(index)
        ? await sagaStatus(second.baseUrl, 'refund', `${paymentId}_r1`)
        : null;
      const refundedMinor = refundStatus === 'completed' ? REFUND_MINOR : 0;
      expectedMinor.set(
        walletOf(index),
        (expectedMinor.get(walletOf(index)) ?? 0) + amountOf(index) - refundedMinor,
      );
    }

    const store = createSqliteEventStore({ path: join(dataDir, EVENTS_FILE_NAME) });
    try {
      for (const [index, paymentId] of paymentIds.entries()) {
        expect([
          paymentId,
          await creditCount(store, walletOf(index), `topup-${paymentId}`),
        ]).toEqual([paymentId, 1]);
      }
      for (const [walletId, minor] of expectedMinor) {
        const account = (await getJson(second.baseUrl, `/v1/accounts/${walletId}`)).body.data[
          'account'
        ] as { balanceMinor: number };
        expect([walletId, account.balanceMinor]).toEqual([walletId, minor]);
      }
      expect(await auditBalances(store)).toMatchObject({ balanced: true, openTransferCount: 0 });
    } finally {
      await store.close();
    }
  });
});
