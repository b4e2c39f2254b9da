import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import {
  ADMIN_KEY,
  freePort,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * Test and live modes as a new user meets them, on the built service: the admin makes a test
 * and a live merchant, the test key pays through the sandbox (`ledger sandbox pay`), the live key
 * is refused the sandbox, neither sees the other's payment; with SANDBOX_ENABLED=false the test
 * key creates no payment and `ledger sandbox pay` refuses to run.
 */
const LEDGER_CLI = join(__dirname, '../../dist/bin/ledger.js');

type Answer = { status: number; body: { code: number; msg: string; data: unknown } };

let keyCounter = 0;
const call = async (
  baseUrl: string,
  apiKey: string,
  method: string,
  path: string,
  body?: object,
) => {
  keyCounter += 1;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      'idempotency-key': `modes-${process.pid}-${keyCounter}`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
};

const sandboxPay = (baseUrl: string, dataDir: string, paymentId: string, env = {}) =>
  new Promise<{ code: number; output: string }>((resolve) =>
    execFile(
      process.execPath,
      [LEDGER_CLI, 'sandbox', 'pay', paymentId, '--url', baseUrl],
      { env: { ...process.env, DATA_DIR: dataDir, LEDGER_ADMIN_API_KEY: ADMIN_KEY, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), output: stdout + stderr }),
    ),
  );

/** A merchant client of `mode` with a EUR account, made by the admin as the README shows. */
const merchant = async (baseUrl: string, clientId: string, mode: 'test' | 'live') => {
  const created = await call(baseUrl, ADMIN_KEY, 'POST', '/v1/clients', {
    clientId,
    role: 'merchant',
    mode,
  });
  expect(created.status).toBe(201);
  const apiKey = (created.body.data as { apiKey: string }).apiKey;
  expect(apiKey.startsWith(`lsk_${mode}_`)).toBe(true);
  const account = { accountId: `${clientId}-eur`, currency: 'EUR' };
  expect((await call(baseUrl, apiKey, 'POST', '/v1/accounts', account)).status).toBe(201);
  return apiKey;
};

const paymentBody = (clientId: string, merchantOrderNo: string, channel: string) => ({
  merchantOrderNo,
  amountMinor: 1250,
  currency: 'EUR',
  channel,
  subject: 'Plan',
  creditAccountId: `${clientId}-eur`,
});

describe('test and live modes, end to end', () => {
  jest.setTimeout(120_000);
  let dataDir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-modes-'));
    service = await startServiceProcess(dataDir, await freePort());
  });
  afterAll(() => {
    service?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('pays with a test key through the sandbox and refuses a live key the sandbox', async () => {
    const { baseUrl } = service;
    const testKey = await merchant(baseUrl, 'shop-test', 'test');
    const liveKey = await merchant(baseUrl, 'shop-live', 'live');

    const created = await call(baseUrl, testKey, 'POST', '/v1/payments', {
      ...paymentBody('shop-test', 'order-1', 'sandbox'),
    });
    expect(created.status).toBe(201);
    const { paymentId, mode } = (
      created.body.data as { payment: { paymentId: string; mode: string } }
    ).payment;
    expect(mode).toBe('test');
    expect((await sandboxPay(baseUrl, dataDir, paymentId)).code).toBe(0);
    await eventually(
      async () => {
        const read = await call(baseUrl, testKey, 'GET', `/v1/payments/${paymentId}`);
        const payment = (read.body.data as { payment: { status: string } }).payment;
        return payment.status === 'succeeded' ? true : undefined;
      },
      { timeoutMs: 10_000, what: 'the test payment succeeded' },
    );

    const refused = await call(baseUrl, liveKey, 'POST', '/v1/payments', {
      ...paymentBody('shop-live', 'order-1', 'sandbox'),
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe(40381);
    expect(refused.body.msg).toMatch(/live-mode key cannot use the sandbox/);

    const live = await call(baseUrl, liveKey, 'POST', '/v1/payments', {
      ...paymentBody('shop-live', 'order-2', 'stripe'),
    });
    expect(live.status).toBe(201);
    const livePayment = (live.body.data as { payment: { paymentId: string; mode: string } })
      .payment;
    expect(livePayment.mode).toBe('live');

    const liveReadsTest = await call(baseUrl, liveKey, 'GET', `/v1/payments/${paymentId}`);
    expect(liveReadsTest.status).toBe(404);
    const testReadsLive = await call(
      baseUrl,
      testKey,
      'GET',
      `/v1/payments/${livePayment.paymentId}`,
    );
    expect(testReadsLive.status).toBe(404);
  });
});

describe('test and live modes, end to end: SANDBOX_ENABLED=false', () => {
  jest.setTimeout(120_000);
  it('refuses test keys payments, the sandbox callbacks and `ledger sandbox pay`', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-modes-off-'));
    const service = await startServiceProcess(dataDir, await freePort(), {
      SANDBOX_ENABLED: 'false',
    });
    try {
      const { baseUrl } = service;
      const testKey = await merchant(baseUrl, 'shop-test', 'test');
      const refused = await call(baseUrl, testKey, 'POST', '/v1/payments', {
        ...paymentBody('shop-test', 'order-1', 'sandbox'),
      });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe(40380);
      const callback = await fetch(`${baseUrl}/v1/channels/sandbox/callbacks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(callback.status).toBe(403);
      expect(((await callback.json()) as { code: number }).code).toBe(40380);
      const cli = await sandboxPay(baseUrl, dataDir, '0190a0a0-0000-7000-8000-000000000000', {
        SANDBOX_ENABLED: 'false',
      });
      expect(cli.code).toBe(2);
      expect(cli.output).toMatch(/sandbox is switched off \(SANDBOX_ENABLED=false\)/);
    } finally {
      service.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
