import { formatSandboxStatement } from '../../domain/reconciliation/statement-csv';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';

let nowMs = Date.parse('2025-03-01T10:00:00Z');
let app: LedgerApp;
let orderCount = 0;

beforeAll(async () => {
  app = await createLedgerApp({ nowMs: () => nowMs });
  await app.post('/v1/accounts', { accountId: 'shop', currency: 'EUR' }, app.keys.merchant);
});

const createPayment = async (amountMinor = 1000) => {
  orderCount += 1;
  const body = {
    merchantOrderNo: `order-${orderCount}`,
    amountMinor,
    currency: 'EUR',
    channel: 'sandbox',
    subject: 'Plan',
    creditAccountId: 'shop',
  };
  const response = await app.post('/v1/payments', body, app.keys.merchant);
  expect(response.status).toBe(201);
  return response.body.data as {
    payment: { paymentId: string; expiresAt: string };
    payerParameters: Record<string, string> | null;
    statusTicket: string;
  };
};
const status = (paymentId: string, ticket: string) =>
  app.http().get(`/v1/payments/${paymentId}/status`).query({ ticket });
const paymentStatus = async (paymentId: string) =>
  (await app.get(`/v1/payments/${paymentId}`, app.keys.admin)).body.data.payment;

describe('payer-facing extras', () => {
  it('creates the channel order with the payment and records the call', async () => {
    const { payment, payerParameters } = await createPayment();
    expect(payerParameters).toEqual({ payUrl: `sandbox://pay/${payment.paymentId}` });
    const log = await app.store.readStream(`channellog-${payment.paymentId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(
      log.map((event) => [event.type, event.data['operation'], event.data['outcome']]),
    ).toEqual([['ChannelCallRecorded', 'create_order', 'succeeded']]);
  });

  it('serves a status ticket once, and refuses reuse, another payment and a forged ticket with 401', async () => {
    const first = await createPayment();
    const second = await createPayment();
    const read = await status(first.payment.paymentId, first.statusTicket);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({
      paymentId: first.payment.paymentId,
      status: 'pending',
      amountMinor: 1000,
    });
    expect((await status(first.payment.paymentId, first.statusTicket)).body.code).toBe(40190);
    expect((await status(first.payment.paymentId, second.statusTicket)).status).toBe(401);
    expect((await status(second.payment.paymentId, 'A'.repeat(43))).status).toBe(401);
    const next = await status(first.payment.paymentId, read.body.data.nextStatusTicket as string);
    expect(next.status).toBe(200);
  });

  it('refuses a ticket older than 5 minutes', async () => {
    const { payment, statusTicket } = await createPayment();
    nowMs += 5 * 60 * 1000;
    expect((await status(payment.paymentId, statusTicket)).status).toBe(401);
  });

  it('resumes a payable payment with fresh parameters, and answers 409 once it expired', async () => {
    const { payment } = await createPayment();
    const resumed = await app.post(
      `/v1/payments/${payment.paymentId}/resume`,
      {},
      app.keys.merchant,
    );
    expect(resumed.status).toBe(200);
    expect(resumed.body.data).toMatchObject({
      payerParameters: { payUrl: `sandbox://pay/${payment.paymentId}` },
      statusTicket: expect.any(String),
    });
    expect(
      (await app.post(`/v1/payments/${payment.paymentId}/resume`, {}, app.keys.merchant2)).status,
    ).toBe(404);
    nowMs = Date.parse(payment.expiresAt);
    const late = await app.post(`/v1/payments/${payment.paymentId}/resume`, {}, app.keys.merchant);
    expect([late.status, late.body.code]).toEqual([409, 40990]);
  });

  it('answers 503 when the channel keeps failing, 201 without parameters at creation, then fails fast', async () => {
    const own = await createLedgerApp({ nowMs: () => nowMs });
    await own.post('/v1/accounts', { accountId: 'shop', currency: 'EUR' }, own.keys.merchant);
    const order = (merchantOrderNo: string) => ({
      merchantOrderNo,
      amountMinor: 5,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'x',
      creditAccountId: 'shop',
    });
    const { paymentId } = (await own.post('/v1/payments', order('o-1'), own.keys.merchant)).body
      .data.payment;
    own.sandbox.setScript({ failingCallCount: 4 });
    const resumed = await own.post(`/v1/payments/${paymentId}/resume`, {}, own.keys.merchant);
    expect([resumed.status, resumed.body.code, resumed.body.data.reason]).toEqual([
      503,
      50390,
      'sandbox: scripted failure',
    ]);
    own.sandbox.setScript({ failingCallCount: 1 }); // The fifth consecutive failure opens the breaker.
    const created = await own.post('/v1/payments', order('o-2'), own.keys.merchant);
    expect([created.status, created.body.data.payerParameters]).toEqual([201, null]);
    expect(created.body.data.channelError).toBe(
      'transient: circuit open: the channel failed repeatedly',
    );
    const fastFailure = await own.post(`/v1/payments/${paymentId}/resume`, {}, own.keys.merchant);
    expect(fastFailure.body.data.reason).toBe('circuit open: the channel failed repeatedly');
  });
});

describe('the scripted sandbox channel', () => {
  it('delivers late, duplicated and lost callbacks with exactly one effect', async () => {
    const { payment } = await createPayment(700);
    app.sandbox.setScript({ callbackDelayMs: 10_000, duplicateCount: 2, lostDeliveryCount: 1 });
    app.sandbox.pay(payment.paymentId);
    expect(await app.sandbox.flush()).toMatchObject({ deliveredCount: 0, waitingCount: 1 }); // Not due yet.
    nowMs += 10_000;
    expect(await app.sandbox.flush()).toMatchObject({ deliveredCount: 0, failedCount: 1 }); // Lost.
    expect(await app.sandbox.flush()).toMatchObject({ deliveredCount: 1, waitingCount: 0 });
    expect((await paymentStatus(payment.paymentId)).status).toBe('succeeded');
    const events = await app.store.readStream(`payment-${payment.paymentId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(events.map((event) => event.type)).toEqual(['PaymentCreated', 'PaymentSucceeded']);
    app.sandbox.setScript({ callbackDelayMs: 0, duplicateCount: 0 });
  });

  it('survives a refund result delivered before the payment it refunds (out of order)', async () => {
    const { payment } = await createPayment(900);
    app.sandbox.pay(payment.paymentId);
    await app.sandbox.flush();
    await app.post(
      `/v1/payments/${payment.paymentId}/refunds`,
      { refundId: 'early', amountMinor: 100 },
      app.keys.merchant,
    );
    const gateway = app.channels.gateways.get('sandbox');
    const second = await createPayment(900);
    app.sandbox.pay(second.payment.paymentId);
    await gateway?.refund({
      paymentId: payment.paymentId,
      refundId: 'early',
      amountMinor: 100,
      currency: 'EUR',
      channelTransactionId: 'x',
    });
    app.sandbox.setScript({ reversed: true });
    expect(await app.sandbox.flush()).toMatchObject({ deliveredCount: 2, waitingCount: 0 });
    app.sandbox.setScript({ reversed: false });
    expect((await paymentStatus(payment.paymentId)).refundedMinor).toBe(100);
    expect((await paymentStatus(second.payment.paymentId)).status).toBe('succeeded');
  });

  it('reports failing refunds as failed, releasing the amount', async () => {
    const { payment } = await createPayment(500);
    app.sandbox.pay(payment.paymentId);
    await app.sandbox.flush();
    await app.post(
      `/v1/payments/${payment.paymentId}/refunds`,
      { refundId: 'doomed', amountMinor: 200 },
      app.keys.merchant,
    );
    app.sandbox.setScript({ failRefunds: true });
    await app.channels.gateways.get('sandbox')?.refund({
      paymentId: payment.paymentId,
      refundId: 'doomed',
      amountMinor: 200,
      currency: 'EUR',
      channelTransactionId: 'x',
    });
    await app.sandbox.flush();
    app.sandbox.setScript({ failRefunds: false });
    expect(await paymentStatus(payment.paymentId)).toMatchObject({
      refundingMinor: 0,
      refundedMinor: 0,
      refundableMinor: 500,
    });
  });
});

describe('POST /v1/reconciliations', () => {
  it('finds planted discrepancies in the sandbox statement', async () => {
    const ok = await createPayment(300);
    const mismatched = await createPayment(400);
    const unpaid = await createPayment(500);
    app.sandbox.pay(ok.payment.paymentId);
    app.sandbox.pay(mismatched.payment.paymentId, { amountMinor: 399 });
    await app.sandbox.flush();
    const rows = app.sandbox.statementRows();
    const planted = {
      paymentId: unpaid.payment.paymentId,
      channelTransactionId: 'planted-tx',
      status: 'succeeded' as const,
      amountMinor: 500,
      currency: 'EUR',
      occurredAt: new Date(nowMs).toISOString(),
    };
    const response = await app.post(
      '/v1/reconciliations',
      { channel: 'sandbox', statementCsv: formatSandboxStatement([...rows, planted]) },
      app.keys.admin,
    );
    expect(response.status).toBe(200);
    const { discrepancies } = response.body.data.report as {
      discrepancies: { kind: string; paymentId: string }[];
    };
    expect(discrepancies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'status_mismatch',
          paymentId: mismatched.payment.paymentId,
        }),
        expect.objectContaining({ kind: 'status_mismatch', paymentId: unpaid.payment.paymentId }),
      ]),
    );
    expect(discrepancies.some((item) => item.paymentId === ok.payment.paymentId)).toBe(false);
    expect(response.body.data.table).toContain('status_mismatch');
  });

  it('refuses a malformed statement with 422 and merchants with 403', async () => {
    const bad = await app.post(
      '/v1/reconciliations',
      { channel: 'sandbox', statementCsv: 'not,a,statement\n' },
      app.keys.admin,
    );
    expect([bad.status, bad.body.code, bad.body.data]).toEqual([422, 42290, { line: 1 }]);
    expect(
      (
        await app.post(
          '/v1/reconciliations',
          { channel: 'sandbox', statementCsv: 'x' },
          app.keys.merchant,
        )
      ).status,
    ).toBe(403);
  });
});
