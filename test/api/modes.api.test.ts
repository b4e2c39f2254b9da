import { createLedgerApp, type LedgerApp } from './support/ledger-app';
import { issueSecret, requestToken } from './support/oauth';

/** Test and live modes over HTTP: what each key reaches and sees (docs/api.md). */
const NOW_MS = Date.parse('2025-03-01T10:00:00.000Z');

describe('test and live modes', () => {
  let app: LedgerApp;
  let testKey = '';
  let liveKey = '';
  let orderCount = 0;
  beforeAll(async () => {
    app = await createLedgerApp({ nowMs: () => NOW_MS });
    testKey = await app.addClient('shop-test', 'merchant', 'test');
    liveKey = await app.addClient('shop-live', 'merchant', 'live');
    await app.post('/v1/accounts', { accountId: 'test-eur', currency: 'EUR' }, testKey);
    await app.post('/v1/accounts', { accountId: 'live-eur', currency: 'EUR' }, liveKey);
  });

  const pay = (apiKey: string, channel: string, creditAccountId: string, extra = {}) => {
    orderCount += 1;
    const body = {
      merchantOrderNo: `order-${orderCount}`,
      amountMinor: 1000,
      currency: 'EUR',
      channel,
      subject: 'Plan',
      creditAccountId,
      ...extra,
    };
    return app.post('/v1/payments', body, apiKey);
  };
  const sandboxPaid = (paymentId: string) =>
    app.callback({
      event: 'payment.succeeded',
      paymentId,
      channelTransactionId: `sandbox-${paymentId}`,
      amountMinor: 1000,
      currency: 'EUR',
    });

  it('lets a test key pay through the sandbox: the payment and its refund are test', async () => {
    const created = await pay(testKey, 'sandbox', 'test-eur');
    expect(created.status).toBe(201);
    const { paymentId, mode } = created.body.data.payment;
    expect(mode).toBe('test');
    expect(created.body.data.channelError).toBeNull();
    const paid = await sandboxPaid(paymentId);
    expect(paid.status).toBe(200);
    expect(paid.body.data).toMatchObject({ status: 'succeeded', flagged: null });
    const refund = { refundId: 'r-1', amountMinor: 400 };
    const refunded = await app.post(`/v1/payments/${paymentId}/refunds`, refund, testKey);
    expect(refunded.status).toBe(201);
    expect(refunded.body.data.payment.refunds).toEqual([
      expect.objectContaining({ refundId: 'r-1', mode: 'test' }),
    ]);
    const events = await app.store.readStream(`payment-${paymentId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(events[0]?.data).toMatchObject({ mode: 'test', channel: 'sandbox' });
  });

  it('refuses the sandbox to a live key, and real channels to a test key', async () => {
    const live = await pay(liveKey, 'sandbox', 'live-eur');
    expect(live.status).toBe(403);
    expect(live.body).toMatchObject({
      code: 40381,
      data: { channel: 'sandbox', mode: 'live' },
    });
    expect(live.body.msg).toMatch(/live-mode key cannot use the sandbox/);
    const test = await pay(testKey, 'wechat', 'test-eur');
    expect(test.status).toBe(403);
    expect(test.body).toMatchObject({ code: 40382, data: { channel: 'wechat', mode: 'test' } });
    const liveReal = await pay(liveKey, 'wechat', 'live-eur');
    expect(liveReal.status).toBe(201);
    expect(liveReal.body.data.payment.mode).toBe('live');
  });

  it('hides each mode from the other (404), and shows admins both', async () => {
    const testPayment = (await pay(testKey, 'sandbox', 'test-eur')).body.data.payment;
    const livePayment = (await pay(liveKey, 'wechat', 'live-eur')).body.data.payment;
    const byLive = await app.get(`/v1/payments/${testPayment.paymentId}`, liveKey);
    expect(byLive.status).toBe(404);
    expect(byLive.body.code).toBe(40412);
    const byTest = await app.get(`/v1/payments/${livePayment.paymentId}`, testKey);
    expect(byTest.status).toBe(404);
    const liveAdmin = await app.addClient('admin-live', 'admin', 'live');
    const seen = await app.get(`/v1/payments/${testPayment.paymentId}`, liveAdmin);
    expect(seen.status).toBe(200);
    expect(seen.body.data.payment.mode).toBe('test');
  });

  it('refuses a sandbox callback for a live payment: nothing is credited', async () => {
    const livePayment = (await pay(liveKey, 'wechat', 'live-eur')).body.data.payment;
    const refused = await sandboxPaid(livePayment.paymentId);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe(40381);
    const after = await app.get(`/v1/payments/${livePayment.paymentId}`, liveKey);
    expect(after.body.data.payment.status).toBe('pending');
  });

  it("refuses an admin a payment across modes: another mode's merchant or account", async () => {
    const testAdmin = app.keys.admin;
    const forLive = await pay(testAdmin, 'sandbox', 'test-eur', { merchantId: 'shop-live' });
    expect(forLive.status).toBe(422);
    expect(forLive.body).toMatchObject({ code: 42280, data: { field: 'merchantId' } });
    const intoLive = await pay(testAdmin, 'sandbox', 'live-eur');
    expect(intoLive.status).toBe(422);
    expect(intoLive.body).toMatchObject({ code: 42280, data: { field: 'creditAccountId' } });
  });

  it("carries the client's mode in its access token and holds the token to it", async () => {
    const secret = await issueSecret(app, 'shop-live');
    const issued = await requestToken(app, 'shop-live', secret);
    expect(issued.status).toBe(200);
    const token = issued.body.access_token as string;
    const [, payload = ''] = token.split('.');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toMatchObject({
      client_id: 'shop-live',
      mode: 'live',
    });
    const refused = await pay(token, 'sandbox', 'live-eur');
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe(40381);
  });
});

describe('test and live modes: the sandbox switched off', () => {
  it('refuses test keys every payment and answers the sandbox callback route 403', async () => {
    const app = await createLedgerApp({ nowMs: () => NOW_MS, sandboxEnabled: false });
    const testKey = await app.addClient('shop-test', 'merchant', 'test');
    await app.post('/v1/accounts', { accountId: 'test-eur', currency: 'EUR' }, testKey);
    const body = {
      merchantOrderNo: 'order-1',
      amountMinor: 1000,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'Plan',
      creditAccountId: 'test-eur',
    };
    const refused = await app.post('/v1/payments', body, testKey);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 40380, data: { channel: 'sandbox' } });
    expect(refused.body.msg).toMatch(/SANDBOX_ENABLED=false/);
    const callback = await app.callback({
      event: 'payment.succeeded',
      paymentId: '0190a0a0-0000-7000-8000-000000000000',
      channelTransactionId: 'sandbox-1',
      amountMinor: 1000,
      currency: 'EUR',
    });
    expect(callback.status).toBe(403);
    expect(callback.body.code).toBe(40380);
  });
});
