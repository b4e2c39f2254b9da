import { createLedgerApp, type LedgerApp } from './support/ledger-app';

const createPayment = (
  app: LedgerApp,
  merchantOrderNo: string,
  amountMinor: number,
  key: string,
  extra: Record<string, unknown> = {},
) =>
  app.post(
    '/v1/payments',
    {
      merchantOrderNo,
      amountMinor,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'Plan',
      creditAccountId: 'shop',
      ...extra,
    },
    key,
  );

const paid = (paymentId: string, amountMinor: number, channelTransactionId = `tx-${paymentId}`) =>
  ({
    event: 'payment.succeeded',
    paymentId,
    channelTransactionId,
    amountMinor,
    currency: 'EUR',
  }) as const;

describe('payments, sandbox callbacks and refunds over HTTP', () => {
  let app: LedgerApp;
  beforeAll(async () => {
    app = await createLedgerApp();
    await app.post('/v1/accounts', { accountId: 'shop', currency: 'EUR' }, app.keys.merchant);
  });

  it('creates a payment that expires in 15 minutes by default', async () => {
    const response = await createPayment(app, 'order-1', 1999, app.keys.merchant);
    expect(response.status).toBe(201);
    const { payment } = response.body.data;
    expect(payment).toMatchObject({ status: 'pending', merchantId: 'merchant', amountMinor: 1999 });
    const ttlMs = Date.parse(payment.expiresAt) - Date.parse(payment.createdAt);
    expect(ttlMs).toBe(15 * 60 * 1000);
  });

  it('answers a second create of the same order with the same payment, and refuses other terms', async () => {
    const first = await createPayment(app, 'order-2', 500, app.keys.merchant);
    const again = await createPayment(app, 'order-2', 500, app.keys.merchant);
    expect([again.status, again.body.data.payment.paymentId]).toEqual([
      200,
      first.body.data.payment.paymentId,
    ]);
    const other = await createPayment(app, 'order-2', 501, app.keys.merchant);
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 40919, data: { field: 'amountMinor' } });
  });

  it('refuses a payment into an account in another currency', async () => {
    const response = await createPayment(app, 'order-usd', 500, app.keys.merchant, {
      currency: 'USD',
    });
    expect([response.status, response.body.code]).toEqual([422, 42210]);
  });

  it('completes a payment from a signed callback, once', async () => {
    const { paymentId } = (await createPayment(app, 'order-3', 1000, app.keys.merchant)).body.data
      .payment;
    const first = await app.callback(paid(paymentId, 1000));
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ status: 'succeeded', duplicate: false });
    const duplicate = await app.callback(paid(paymentId, 1000));
    expect(duplicate.body.data).toMatchObject({ status: 'succeeded', duplicate: true });
    const view = await app.get(`/v1/payments/${paymentId}`, app.keys.merchant);
    expect(view.body.data.payment).toMatchObject({ status: 'succeeded' });
  });

  it('refuses forged, stale and malformed callbacks without touching the payment', async () => {
    const { paymentId } = (await createPayment(app, 'order-4', 1000, app.keys.merchant)).body.data
      .payment;
    const streamBefore = await app.store.readStream(`payment-${paymentId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 100,
    });
    const forged = await app.callback(paid(paymentId, 1000), { secret: 'not-the-secret' });
    expect([forged.status, forged.body.code]).toEqual([401, 40102]);
    const stale = await app.callback(paid(paymentId, 1000), { ageMs: 6 * 60 * 1000 });
    expect([stale.status, stale.body.code]).toEqual([401, 40103]);
    const malformed = await app.callback({
      event: 'payment.succeeded',
      paymentId,
      amountMinor: 1.5,
    });
    expect(malformed.status).toBe(400);
    const unsigned = await app
      .http()
      .post('/v1/channels/sandbox/callbacks')
      .send(paid(paymentId, 1000));
    expect(unsigned.status).toBe(401);
    const streamAfter = await app.store.readStream(`payment-${paymentId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 100,
    });
    expect(streamAfter).toHaveLength(streamBefore.length);
    // Each refusal leaves an audit event (and a metric) instead.
    const audits = (await app.store.readAll({ afterPosition: null, eventCountMax: 1000 })).filter(
      (event) => event.type === 'ChannelCallbackRefused',
    );
    expect(audits.map((event) => event.data['refusal']).slice(-4)).toEqual([
      'invalid_signature',
      'stale_signature',
      'invalid_request',
      'invalid_signature',
    ]);
    expect(app.logText()).not.toContain('not-the-secret');
  });

  it('flags a callback whose amount is one minor unit off, and does not pay', async () => {
    const { paymentId } = (await createPayment(app, 'order-5', 1000, app.keys.merchant)).body.data
      .payment;
    await app.callback(paid(paymentId, 999));
    const view = await app.get(`/v1/payments/${paymentId}`, app.keys.admin);
    expect(view.body.data.payment.status).toBe('pending');
    expect(view.body.data.payment.flags).toEqual([
      expect.objectContaining({ reason: 'amount_mismatch', amountMinor: 999 }),
    ]);
  });

  it('answers a callback for an unknown payment with 404', async () => {
    const response = await app.callback(paid('0191e7a8-0000-7000-8000-000000000000', 1));
    expect([response.status, response.body.code]).toEqual([404, 40412]);
  });

  it('refunds part of a payment, never more than was paid', async () => {
    const { paymentId } = (await createPayment(app, 'order-6', 1000, app.keys.merchant)).body.data
      .payment;
    await app.callback(paid(paymentId, 1000));
    const partial = await app.post(
      `/v1/payments/${paymentId}/refunds`,
      { refundId: 'r1', amountMinor: 400, reason: 'damaged' },
      app.keys.merchant,
    );
    expect(partial.status).toBe(201);
    const tooMuch = await app.post(
      `/v1/payments/${paymentId}/refunds`,
      { refundId: 'r2', amountMinor: 601 },
      app.keys.merchant,
    );
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body).toMatchObject({ code: 42221, data: { refundableMinor: 600 } });
    const done = await app.callback({
      event: 'refund.succeeded',
      paymentId,
      refundId: 'r1',
      channelRefundId: 'cr-1',
    });
    expect(done.status).toBe(200);
    const view = await app.get(`/v1/payments/${paymentId}`, app.keys.merchant);
    expect(view.body.data.payment).toMatchObject({ refundedMinor: 400 });
  });

  it('never lets concurrent refunds exceed the amount paid', async () => {
    const { paymentId } = (await createPayment(app, 'order-7', 1000, app.keys.merchant)).body.data
      .payment;
    await app.callback(paid(paymentId, 1000));
    const attempts = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        app.post(
          `/v1/payments/${paymentId}/refunds`,
          { refundId: `c${index}`, amountMinor: 300 },
          app.keys.merchant,
        ),
      ),
    );
    expect(attempts.filter((response) => response.status === 201)).toHaveLength(3);
    expect(attempts.filter((response) => response.status === 422)).toHaveLength(7);
  });

  it('refuses a refund of an unpaid payment', async () => {
    const { paymentId } = (await createPayment(app, 'order-8', 1000, app.keys.merchant)).body.data
      .payment;
    const response = await app.post(
      `/v1/payments/${paymentId}/refunds`,
      { refundId: 'r', amountMinor: 1 },
      app.keys.merchant,
    );
    expect([response.status, response.body.code]).toEqual([409, 40924]);
  });

  it('closes an unpaid payment and flags a later success for refund', async () => {
    const { paymentId } = (await createPayment(app, 'order-9', 1000, app.keys.merchant)).body.data
      .payment;
    expect(
      (await app.post(`/v1/payments/${paymentId}/close`, {}, app.keys.merchant)).body.data.payment
        .status,
    ).toBe('closed');
    await app.callback(paid(paymentId, 1000));
    const view = await app.get(`/v1/payments/${paymentId}`, app.keys.merchant);
    expect(view.body.data.payment.status).toBe('closed');
    expect(view.body.data.payment.flags[0]).toMatchObject({ reason: 'paid_after_close' });
  });

  it('hides a merchant\u2019s payments from other merchants', async () => {
    const { paymentId } = (await createPayment(app, 'order-10', 1000, app.keys.merchant)).body.data
      .payment;
    expect((await app.get(`/v1/payments/${paymentId}`, app.keys.merchant2)).status).toBe(404);
  });
});

describe('traffic over HTTP', () => {
  it('counts a spaced report and one with 1e3 alike (byte reader and JSON.parse agree)', async () => {
    const app = await createLedgerApp();
    const postReportText = (text: string, idempotencyKey: string) =>
      app
        .http()
        .post('/v1/traffic/reports')
        .set('Authorization', `Bearer ${app.keys.admin}`)
        .set('Idempotency-Key', idempotencyKey)
        .set('Content-Type', 'application/json')
        .send(text);
    // Read from the bytes: keys in another order, spaces and a newline.
    const spaced = await postReportText(
      '{ "records" : [ { "downloadBytes" : 0 , "userId" : "sp-1" , "uploadBytes" : 1000 } ] ,\n "reportId" : "r-sp" }',
      'k-spaced',
    );
    // Left to JSON.parse and the schema: 1e3 is the integer 1000 to both.
    const exponent = await postReportText(
      '{"reportId":"r-exp","records":[{"userId":"sp-2","uploadBytes":1e3,"downloadBytes":0}]}',
      'k-exponent',
    );
    expect([spaced.status, exponent.status]).toEqual([200, 200]);
    expect([spaced.body.data.recordCount, exponent.body.data.recordCount]).toEqual([1, 1]);
    const usedOf = async (userId: string) =>
      (await app.get(`/v1/traffic/users/${userId}`, app.keys.admin)).body.data.traffic.usedBytes;
    expect([await usedOf('sp-1'), await usedOf('sp-2')]).toEqual([1000, 1000]);
  });

  it('records reports, sums a user\u2019s records, and flags the quota crossing once', async () => {
    const app = await createLedgerApp();
    const nodeKey = await app.addClient('node-1', 'node');
    await app.post(
      '/v1/traffic/users/u1/grants',
      { grantId: 'plan-1', quotaBytes: 1000 },
      app.keys.admin,
    );
    const report = await app.post(
      '/v1/traffic/reports',
      {
        reportId: 'r1',
        records: [
          { userId: 'u1', uploadBytes: 300, downloadBytes: 300 },
          { userId: 'u1', uploadBytes: 0, downloadBytes: 401 },
          { userId: 'u2', uploadBytes: 5, downloadBytes: 0 },
        ],
      },
      nodeKey,
    );
    expect(report.status).toBe(200);
    expect(report.body.data).toMatchObject({ recordCount: 3, userCount: 2, rejected: [] });
    expect(report.body.data.exceededUserIds.sort()).toEqual(['u1', 'u2']);
    const user = await app.get('/v1/traffic/users/u1', nodeKey);
    expect(user.body.data.traffic).toMatchObject({
      usedBytes: 1001,
      quotaBytes: 1000,
      exceeded: true,
      remainingBytes: 0,
    });
    const retried = await app.post(
      '/v1/traffic/reports',
      { reportId: 'r1', records: [{ userId: 'u1', uploadBytes: 300, downloadBytes: 300 }] },
      nodeKey,
    );
    expect(retried.status).toBe(200);
    expect((await app.get('/v1/traffic/users/u1', nodeKey)).body.data.traffic.usedBytes).toBe(1001);
  });

  it('loses no update under concurrent reports for one user', async () => {
    const app = await createLedgerApp();
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        app.post(
          '/v1/traffic/reports',
          { reportId: `r${index}`, records: [{ userId: 'hot', uploadBytes: 1, downloadBytes: 2 }] },
          app.keys.admin,
        ),
      ),
    );
    const user = await app.get('/v1/traffic/users/hot', app.keys.admin);
    expect(user.body.data.traffic).toMatchObject({ uploadBytes: 50, downloadBytes: 100 });
  });

  it('counts a report across every shard, lists users it refused, and answers a resend the same', async () => {
    const app = await createLedgerApp();
    const max = Number.MAX_SAFE_INTEGER;
    await app.post(
      '/v1/traffic/reports',
      { reportId: 'r-fill', records: [{ userId: 'full', uploadBytes: max, downloadBytes: 0 }] },
      app.keys.admin,
    );
    const records = [
      ...Array.from({ length: 200 }, (_, index) => ({
        userId: `spread-${index}`,
        uploadBytes: index + 1,
        downloadBytes: 1,
      })),
      { userId: 'full', uploadBytes: 1, downloadBytes: 0 },
    ];
    const first = await app.post(
      '/v1/traffic/reports',
      { reportId: 'r-all', records },
      app.keys.admin,
    );
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({
      recordCount: 201,
      userCount: 201,
      rejected: [{ userId: 'full', code: 'usage_overflow' }],
    });
    const resent = await app.post(
      '/v1/traffic/reports',
      { reportId: 'r-all', records },
      app.keys.admin,
    );
    expect(resent.body.data.rejected).toEqual(first.body.data.rejected);
    const totals = await Promise.all(
      [0, 99, 199].map(
        async (index) =>
          (await app.get(`/v1/traffic/users/spread-${index}`, app.keys.admin)).body.data.traffic,
      ),
    );
    expect(totals.map((traffic) => traffic.uploadBytes)).toEqual([1, 100, 200]);
    const full = await app.get('/v1/traffic/users/full', app.keys.admin);
    expect(full.body.data.traffic.uploadBytes).toBe(max);
  });

  it('refuses a user whose records add up past the safe range, and counts the others', async () => {
    const app = await createLedgerApp();
    const max = Number.MAX_SAFE_INTEGER;
    const report = await app.post(
      '/v1/traffic/reports',
      {
        reportId: 'r-twice',
        records: [
          { userId: 'big', uploadBytes: max, downloadBytes: 0 },
          { userId: 'small', uploadBytes: 3, downloadBytes: 4 },
          { userId: 'big', uploadBytes: max, downloadBytes: 0 },
        ],
      },
      app.keys.admin,
    );
    expect(report.status).toBe(200);
    expect(report.body.data).toMatchObject({
      userCount: 2,
      rejected: [{ userId: 'big', code: 'usage_overflow' }],
    });
    const big = await app.get('/v1/traffic/users/big', app.keys.admin);
    expect(big.body.data.traffic.usedBytes).toBe(0);
    const small = await app.get('/v1/traffic/users/small', app.keys.admin);
    expect(small.body.data.traffic.usedBytes).toBe(7);
  });
});
