import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signSandboxCallback } from '../../adapters/channels/sandbox.channel';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { auditBalances } from '../../bin/audit-cli';
import { EVENTS_FILE_NAME } from '../../bin/event-store';
import type { PaymentView } from '../../domain/payment/payment.view';
import { eventually } from '../support/eventually';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import {
  ADMIN_KEY,
  freePort,
  getJson,
  postJson,
  startServiceProcess,
  topUpTransferStatus,
  type ServiceProcess,
} from '../support/service-process';

/**
 * Refunds in flight at a kill -9 settle after the restart without a hand-sent callback: 20
 * sandbox payments, some paid with `ledger sandbox pay` (the built CLI), the others by sandbox
 * callbacks signed by hand (the sandbox knows those only from the verified callback), 20
 * concurrent partial refunds, kill -9 of the service as soon as a refund saga is seen running
 * (in-process bus, or NATS JetStream with a real nats-server started here), restart on the same
 * data dir. Within a minute every refund
 * saga completes (the sandbox's durable callbacks are resent and the refund saga queries the
 * channel), each payment shows its refund succeeded, no hold is left pending, wallets hold
 * Σ paid − Σ refunded and Σ balances = 0.
 */
const SECRET = 'refund-crash-test-secret-0123456789';
const PAYMENT_COUNT = 20;
const WALLET_COUNT = 4;
const REFUND_MINOR = 300;
/** Every fifth payment is paid with the CLI (a node process each), the others by hand. */
const PAID_BY_CLI_EVERY = 5;
const SETTLE_WITHIN_MS = 60_000;
const LEDGER_CLI = join(__dirname, '../../dist/bin/ledger.js');
const FINAL_SAGA_EVENTS = new Set([
  'SagaCompleted',
  'SagaCompensated',
  'SagaFailed',
  'SagaDeadLettered',
]);

const amountOf = (index: number): number => 1000 + index;
const walletOf = (index: number): string => `w${index % WALLET_COUNT}`;

/** A sandbox success callback signed by hand with the sandbox secret, as the README shows. */
const paySelfSigned = async (baseUrl: string, paymentId: string, index: number) => {
  const raw = Buffer.from(
    JSON.stringify({
      event: 'payment.succeeded',
      paymentId,
      channelTransactionId: `hand-signed-${index}`,
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

/** `ledger sandbox pay`, the built CLI, against the running service: its exit code and output. */
const payWithCli = (baseUrl: string, dataDir: string, paymentId: string) =>
  new Promise<{ code: number | null; stdout: string }>((resolve, reject) =>
    execFile(
      process.execPath,
      [LEDGER_CLI, 'sandbox', 'pay', paymentId, '--url', baseUrl],
      {
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          SANDBOX_CALLBACK_SECRET: SECRET,
          LEDGER_ADMIN_API_KEY: ADMIN_KEY,
        },
      },
      (error, stdout, stderr) =>
        error === null
          ? resolve({ code: 0, stdout })
          : reject(new Error(`${error.message}${stderr}`)),
    ),
  );

const sagaStatus = async (baseUrl: string, name: string, sagaId: string) => {
  const response = await getJson(baseUrl, `/v1/sagas/${name}/${sagaId}`);
  return response.status === 200 ? (response.body.data['saga'] as { status: string }).status : null;
};

const paymentOf = async (baseUrl: string, paymentId: string): Promise<PaymentView> =>
  (await getJson(baseUrl, `/v1/payments/${paymentId}`)).body.data['payment'] as PaymentView;

/** From the log the killed service left: which payments have a refund, and whose saga was open. */
const refundsAtKill = async (dataDir: string, paymentIds: readonly string[]) => {
  const store = createSqliteEventStore({ path: join(dataDir, EVENTS_FILE_NAME) });
  try {
    const requested: string[] = [];
    const open: string[] = [];
    for (const paymentId of paymentIds) {
      const payment = await store.readStream(`payment-${paymentId}`, {
        fromRevision: 0,
        direction: 'forwards',
        eventCountMax: 100,
      });
      if (!payment.some((event) => event.type === 'RefundRequested')) continue;
      requested.push(paymentId);
      const saga = await store.readStream(`saga-refund-${paymentId}_r1`, {
        fromRevision: 0,
        direction: 'forwards',
        eventCountMax: 1000,
      });
      if (!saga.some((event) => FINAL_SAGA_EVENTS.has(event.type))) open.push(paymentId);
    }
    return { requested, open };
  } finally {
    await store.close();
  }
};

const scenario = (bus: 'in-process' | 'nats') => {
  let nats: NatsServer | null = null;
  let dataDir: string;
  let running: ServiceProcess | null = null;

  beforeAll(async () => {
    if (bus === 'nats') nats = await startNatsServer();
    dataDir = mkdtempSync(join(tmpdir(), `ledger-refund-crash-${bus}-`));
  });
  afterAll(async () => {
    if (running !== null && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('settles every refund in flight at a kill -9 within a minute of the restart', async () => {
    const port = await freePort();
    const env: Record<string, string> = {
      SANDBOX_CALLBACK_SECRET: SECRET,
      ...(nats === null ? {} : { NATS_URL: nats.url }),
    };
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
    const paymentIds: string[] = [];
    const paidByCli: Promise<{ code: number | null; stdout: string }>[] = [];
    for (let index = 0; index < PAYMENT_COUNT; index += 1) {
      const created = await postJson(first.baseUrl, '/v1/payments', {
        merchantOrderNo: `o${index}`,
        amountMinor: amountOf(index),
        currency: 'EUR',
        channel: 'sandbox',
        subject: 'top-up',
        creditAccountId: walletOf(index),
      });
      const paymentId = (created.body.data['payment'] as { paymentId: string }).paymentId;
      if (index % PAID_BY_CLI_EVERY === 0)
        paidByCli.push(payWithCli(first.baseUrl, dataDir, paymentId));
      else expect(await paySelfSigned(first.baseUrl, paymentId, index)).toBe(200);
      paymentIds.push(paymentId);
    }
    for (const paid of await Promise.all(paidByCli))
      expect(paid).toEqual({ code: 0, stdout: expect.stringContaining('"status": 200') });
    // The refunds need the wallets credited: each credit committed with its payment's success.
    for (const paymentId of paymentIds)
      expect([paymentId, await topUpTransferStatus(first.baseUrl, paymentId)]).toEqual([
        paymentId,
        'posted',
      ]);

    const refunds = paymentIds.map((paymentId) =>
      postJson(first.baseUrl, `/v1/payments/${paymentId}/refunds`, {
        refundId: 'r1',
        amountMinor: REFUND_MINOR,
      }).catch(() => null),
    );
    // Killed on a positive signal, not after a guessed delay: a refund saga is seen running.
    await eventually(
      async () => {
        for (const paymentId of paymentIds)
          if ((await sagaStatus(first.baseUrl, 'refund', `${paymentId}_r1`)) === 'running')
            return true;
        return undefined;
      },
      { timeoutMs: 30_000, what: 'a refund saga running', intervalMs: 5 },
    );
    first.child.kill('SIGKILL');
    await Promise.all(refunds);
    await first.exited;

    const atKill = await refundsAtKill(dataDir, paymentIds);
    // The kill caught refunds that were requested but not settled: this test tests something.
    expect(atKill.open.length).toBeGreaterThan(0);

    const second = await startServiceProcess(dataDir, port, env);
    running = second;
    const restartedMs = Date.now();
    // No callback is sent by hand from here on: the service and its sandbox settle by themselves.
    await eventually(
      async () => {
        for (const paymentId of atKill.requested)
          if ((await sagaStatus(second.baseUrl, 'refund', `${paymentId}_r1`)) !== 'completed')
            return undefined;
        return true;
      },
      { timeoutMs: SETTLE_WITHIN_MS, what: 'every refund saga completed', intervalMs: 250 },
    );
    expect(Date.now() - restartedMs).toBeLessThan(SETTLE_WITHIN_MS);

    const expectedMinor = new Map<string, number>();
    for (const [index, paymentId] of paymentIds.entries()) {
      const payment = await paymentOf(second.baseUrl, paymentId);
      const refunded = atKill.requested.includes(paymentId);
      expect([paymentId, payment.refundingMinor, payment.refundedMinor]).toEqual([
        paymentId,
        0,
        refunded ? REFUND_MINOR : 0,
      ]);
      if (refunded)
        expect(payment.refunds).toEqual([
          expect.objectContaining({
            refundId: 'r1',
            status: 'succeeded',
            channelRefundId: 'sandbox-refund-r1',
          }),
        ]);
      expectedMinor.set(
        walletOf(index),
        (expectedMinor.get(walletOf(index)) ?? 0) + amountOf(index) - (refunded ? REFUND_MINOR : 0),
      );
    }
    for (const [walletId, balanceMinor] of expectedMinor) {
      const account = (await getJson(second.baseUrl, `/v1/accounts/${walletId}`)).body.data[
        'account'
      ] as { balanceMinor: number; debitsPendingMinor: number };
      expect([walletId, account.balanceMinor, account.debitsPendingMinor]).toEqual([
        walletId,
        balanceMinor,
        0,
      ]);
    }
    const store = createSqliteEventStore({ path: join(dataDir, EVENTS_FILE_NAME) });
    try {
      expect(await auditBalances(store)).toMatchObject({
        balanced: true,
        openTransferCount: 0,
        pendingHoldCount: 0,
      });
    } finally {
      await store.close();
    }
  });
};

describe('refunds in flight at a kill -9, in-process bus', () => {
  jest.setTimeout(120_000);
  scenario('in-process');
});

describe('refunds in flight at a kill -9, NATS JetStream', () => {
  jest.setTimeout(120_000);
  scenario('nats');
});
