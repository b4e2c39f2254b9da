import { bearer } from './support/test-app';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';

/** Every bad request is a 4xx naming the problem, and nothing reaches the event log. */
describe('bad input', () => {
  let app: LedgerApp;
  let headBefore: bigint | null;
  beforeAll(async () => {
    app = await createLedgerApp({ limits: { bodyBytesMax: 4096 } });
    await app.post('/v1/accounts', { accountId: 'a', currency: 'EUR' }, app.keys.admin);
    await app.post('/v1/accounts', { accountId: 'b', currency: 'EUR' }, app.keys.admin);
    headBefore = await app.store.headPosition();
  });
  afterEach(async () => {
    expect(await app.store.headPosition()).toBe(headBefore);
  });

  const transferBody = {
    transferId: 't1',
    debitAccountId: 'a',
    creditAccountId: 'b',
    amountMinor: 100,
    currency: 'EUR',
  };

  it.each([
    ['zero amount', { amountMinor: 0 }, 'amountMinor'],
    ['negative amount', { amountMinor: -1 }, 'amountMinor'],
    ['fractional amount', { amountMinor: 1.5 }, 'amountMinor'],
    ['unsafe amount', { amountMinor: 2 ** 53 }, 'amountMinor'],
    ['amount as string', { amountMinor: '100' }, 'amountMinor'],
    ['unknown currency', { currency: 'XYZ' }, 'currency'],
    ['lower-case currency', { currency: 'eur' }, 'currency'],
    ['bad id characters', { transferId: 'a/b' }, 'transferId'],
    ['unknown field', { colour: 'blue' }, 'colour'],
    ['timeout on single phase', { timeoutMs: -5 }, 'timeoutMs'],
  ])('refuses %s with 400 naming the field', async (_name, patch, field) => {
    const response = await app.post('/v1/transfers', { ...transferBody, ...patch }, app.keys.admin);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe(40001);
    expect(response.body.msg).toContain(field);
  });

  it('refuses a missing field with 400 naming it', async () => {
    const { amountMinor: _omitted, ...body } = transferBody;
    const response = await app.post('/v1/transfers', body, app.keys.admin);
    expect([response.status, response.body.code]).toEqual([400, 40001]);
    expect(response.body.msg).toContain('amountMinor');
  });

  it('refuses malformed JSON with 400', async () => {
    const response = await app
      .http()
      .post('/v1/transfers')
      .set(bearer(app.keys.admin))
      .set('Idempotency-Key', 'k-malformed')
      .set('Content-Type', 'application/json')
      .send('{"transferId": ');
    expect([response.status, response.body.code]).toEqual([400, 40002]);
  });

  it('refuses a body over the limit with 413', async () => {
    const response = await app.post(
      '/v1/transfers',
      { ...transferBody, reference: 'x'.repeat(5000) },
      app.keys.admin,
    );
    expect([response.status, response.body.code]).toEqual([413, 41301]);
  });

  it('refuses a non-JSON body with 415', async () => {
    const response = await app
      .http()
      .post('/v1/transfers')
      .set(bearer(app.keys.admin))
      .set('Idempotency-Key', 'k-form')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('amountMinor=1');
    expect(response.status).toBe(415);
  });

  it('requires an Idempotency-Key on commands', async () => {
    const response = await app
      .http()
      .post('/v1/transfers')
      .set(bearer(app.keys.admin))
      .send(transferBody);
    expect([response.status, response.body.code]).toEqual([400, 40003]);
  });

  it('refuses an Idempotency-Key over 255 characters', async () => {
    const response = await app.post('/v1/transfers', transferBody, app.keys.admin, 'k'.repeat(256));
    expect([response.status, response.body.code]).toEqual([400, 40004]);
  });

  it('requires an API key', async () => {
    const response = await app
      .http()
      .post('/v1/transfers')
      .set('Idempotency-Key', 'k-anon')
      .send(transferBody);
    expect([response.status, response.body.code]).toEqual([401, 40101]);
  });

  it('keeps nodes away from money', async () => {
    const nodeKey = await app.addClient('node-1', 'node');
    const response = await app.post('/v1/transfers', transferBody, nodeKey);
    expect(response.status).toBe(403);
  });

  it('refuses a traffic report with more than 10,000 records', async () => {
    const records = Array.from({ length: 10_001 }, (_, index) => ({
      userId: `u${index}`,
      uploadBytes: 1,
      downloadBytes: 1,
    }));
    const big = await createLedgerApp();
    const response = await big.post(
      '/v1/traffic/reports',
      { reportId: 'r1', records },
      big.keys.admin,
    );
    expect(response.status).toBe(400);
    expect(response.body.msg).toContain('records');
    expect(await big.store.headPosition()).toBeNull();
  });

  it.each([
    [{ uploadBytes: 1.5 }, 'body.records.12.uploadBytes must be integer'],
    [{ downloadBytes: -1 }, 'body.records.12.downloadBytes must be >= 0'],
    [{ userId: 'no spaces' }, 'body.records.12.userId must match pattern'],
    [{ extra: 1 }, "body.records.12 has unknown field 'extra'"],
    [{ uploadBytes: null }, 'body.records.12.uploadBytes must not be null'],
  ])('names the bad field of a traffic report record: %j', async (bad, msg) => {
    const records = Array.from({ length: 20 }, (_, index) => ({
      userId: `u${index}`,
      uploadBytes: 1,
      downloadBytes: 1,
      ...(index === 12 ? bad : {}),
    }));
    const response = await app.post(
      '/v1/traffic/reports',
      { reportId: 'r-bad', records },
      app.keys.admin,
    );
    expect(response.status).toBe(400);
    expect(response.body.msg).toContain(msg);
  });

  const postReportText = (text: string, idempotencyKey: string) =>
    app
      .http()
      .post('/v1/traffic/reports')
      .set(bearer(app.keys.admin))
      .set('Idempotency-Key', idempotencyKey)
      .set('Content-Type', 'application/json')
      .send(text);

  it.each([
    ['truncated', '{"reportId":"r-t","records":[{"userId":"u1","uploadBytes":1,"downloadBytes":2}'],
    [
      'with trailing text',
      '{"reportId":"r-t","records":[{"userId":"u1","uploadBytes":1,"downloadBytes":2}]} x',
    ],
  ])('answers a %s traffic report malformed_json, storing nothing', async (_name, text) => {
    const before = await app.store.headPosition();
    const response = await postReportText(text, `k-malformed-${_name.length}`);
    expect([response.status, response.body.code]).toEqual([400, 40002]);
    expect(await app.store.headPosition()).toEqual(before);
  });

  it('names the bad field of a report the byte reader leaves to ajv (a duplicate key)', async () => {
    const text =
      '{"reportId":"r-dup","records":[{"userId":"u1","uploadBytes":1,"downloadBytes":2},' +
      '{"userId":"u2","uploadBytes":1,"uploadBytes":-1,"downloadBytes":2}]}';
    const response = await postReportText(text, 'k-dup-key');
    expect(response.status).toBe(400);
    expect(response.body.msg).toContain('body.records.1.uploadBytes must be >= 0');
  });

  it('refuses a refund on a malformed payment id with 400', async () => {
    const response = await app.post(
      '/v1/payments/not-a-uuid/refunds',
      { refundId: 'r', amountMinor: 1 },
      app.keys.admin,
    );
    expect(response.status).toBe(400);
    expect(response.body.msg).toContain('paymentId');
  });

  it('answers unknown resources with 404 in the envelope', async () => {
    const response = await app.get('/v1/accounts/nobody', app.keys.admin);
    expect([response.status, response.body.code]).toEqual([404, 40410]);
  });
});
