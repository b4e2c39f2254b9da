import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signSandboxCallback } from '../../adapters/channels/sandbox.channel';
import { eventually } from '../support/eventually';
import {
  freePort,
  getJson,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * A new user against the built service (`npm run build` first), the channel being the source of
 * truth: closing an unpaid payment closes the sandbox order (queried closed, paying it refused);
 * a success whose notification the sandbox "loses" is found by the expiry saga's query and
 * credited, flagged recovered; a notification arriving after the expiry but dated before it
 * credits the payment.
 */
const SECRET = 'channel-truth-e2e-sandbox-secret-0123';
const WAIT_MS = 30_000;

type Payment = { paymentId: string; status: string; recovered: boolean; expiresAt: string };

describe('the channel is the source of truth (built service)', () => {
  let dataDir = '';
  let service: ServiceProcess | null = null;
  let orderCount = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-channel-truth-'));
    service = await startServiceProcess(dataDir, await freePort(), {
      SANDBOX_CALLBACK_SECRET: SECRET,
    });
    await postJson(service.baseUrl, '/v1/accounts', { accountId: 'wallet', currency: 'EUR' });
  });
  afterAll(async () => {
    if (service !== null && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const baseUrl = (): string => service?.baseUrl ?? '';
  const createPayment = async (ttlMs: number): Promise<Payment> => {
    orderCount += 1;
    const created = await postJson(baseUrl(), '/v1/payments', {
      merchantOrderNo: `truth-e2e-${orderCount}`,
      amountMinor: 500,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'Top-up',
      creditAccountId: 'wallet',
      expiresAt: new Date(Date.now() + ttlMs).toISOString(),
    });
    expect(created.status).toBe(201);
    return created.body.data['payment'] as Payment;
  };
  const paymentOf = async (paymentId: string): Promise<Payment> =>
    (await getJson(baseUrl(), `/v1/payments/${paymentId}`)).body.data['payment'] as Payment;
  const balanceOf = async (): Promise<number> =>
    Number(
      (
        (await getJson(baseUrl(), '/v1/accounts/wallet')).body.data['account'] as {
          balanceMinor: number | string;
        }
      ).balanceMinor,
    );
  const statusOf = (paymentId: string, status: string) =>
    eventually(
      async () => {
        const payment = await paymentOf(paymentId);
        return payment.status === status ? payment : undefined;
      },
      { timeoutMs: WAIT_MS, what: `payment ${paymentId} ${status}` },
    );

  it('closes an unpaid payment and its sandbox order, which then refuses to be paid', async () => {
    const { paymentId } = await createPayment(600_000);
    const closed = await postJson(baseUrl(), `/v1/payments/${paymentId}/close`, {});
    expect([closed.status, (closed.body.data['payment'] as Payment).status]).toEqual([
      200,
      'closed',
    ]);
    const order = await getJson(baseUrl(), `/v1/sandbox/orders/${paymentId}`);
    expect((order.body.data['order'] as { status: string }).status).toBe('closed');
    const pay = await postJson(baseUrl(), `/v1/sandbox/orders/${paymentId}/pay`, {});
    expect([pay.status, pay.body.code]).toEqual([409, 40991]);
  });

  it('credits by query, before expiring it, a payment whose success notification was lost', async () => {
    const before = await balanceOf();
    const { paymentId } = await createPayment(3_000);
    const pay = await postJson(baseUrl(), `/v1/sandbox/orders/${paymentId}/pay`, {
      loseNotification: true,
    });
    expect([pay.status, pay.body.data['notification']]).toEqual([200, 'lost']);
    const recovered = await statusOf(paymentId, 'succeeded');
    expect(recovered.recovered).toBe(true);
    await eventually(async () => ((await balanceOf()) === before + 500 ? true : undefined), {
      timeoutMs: WAIT_MS,
      what: 'the wallet credited once',
    });
  });

  it('credits an expired payment whose late notification says it was paid before expiresAt', async () => {
    const { paymentId, expiresAt } = await createPayment(1_500);
    await statusOf(paymentId, 'expired');
    const before = await balanceOf();
    const body = Buffer.from(
      JSON.stringify({
        event: 'payment.succeeded',
        paymentId,
        channelTransactionId: `late-${paymentId.slice(0, 8)}`,
        amountMinor: 500,
        currency: 'EUR',
        paidAt: new Date(Date.parse(expiresAt) - 1_000).toISOString(),
      }),
    );
    const response = await fetch(`${baseUrl()}/v1/channels/sandbox/callbacks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sandbox-signature': signSandboxCallback(SECRET, body, Date.now()),
      },
      body,
    });
    expect(response.status).toBe(200);
    expect(await statusOf(paymentId, 'succeeded')).toMatchObject({ recovered: false });
    await eventually(async () => ((await balanceOf()) === before + 500 ? true : undefined), {
      timeoutMs: WAIT_MS,
      what: 'the late but in-time payment credited',
    });
  });
});
