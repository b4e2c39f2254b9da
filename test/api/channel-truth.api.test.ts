import { paymentAggregate } from '../../domain/payment/payment.decider';
import { systemContext } from '../../domain/payment/channel-log.record';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';

/** The channel is the source of truth: closing, late notifications and lost ones (issue #21). */
let nowMs = Date.parse('2025-05-01T10:00:00Z');
let app: LedgerApp;
let orderCount = 0;

beforeAll(async () => {
  app = await createLedgerApp({ nowMs: () => nowMs });
  await app.post('/v1/accounts', { accountId: 'shop', currency: 'EUR' }, app.keys.merchant);
});

const createPayment = async (target: LedgerApp = app, expiresAt?: string): Promise<string> => {
  orderCount += 1;
  const body = {
    merchantOrderNo: `truth-${orderCount}`,
    amountMinor: 1000,
    currency: 'EUR',
    channel: 'sandbox',
    subject: 'Plan',
    creditAccountId: 'shop',
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
  const response = await target.post('/v1/payments', body, target.keys.merchant);
  expect(response.status).toBe(201);
  return (response.body.data as { payment: { paymentId: string } }).payment.paymentId;
};
const paymentOf = async (paymentId: string, target: LedgerApp = app) =>
  (await target.get(`/v1/payments/${paymentId}`, target.keys.merchant)).body.data.payment;
const sandboxOrder = async (paymentId: string) =>
  app.get(`/v1/sandbox/orders/${paymentId}`, app.keys.merchant);

describe('POST /v1/payments/{id}/close closes the channel order first', () => {
  it('closes an unpaid payment and its sandbox order; the sandbox then refuses to take payment', async () => {
    const paymentId = await createPayment();
    expect((await sandboxOrder(paymentId)).body.data.order.status).toBe('pending');
    const closed = await app.post(`/v1/payments/${paymentId}/close`, {}, app.keys.merchant);
    expect([closed.status, closed.body.data.payment.status]).toEqual([200, 'closed']);
    expect((await sandboxOrder(paymentId)).body.data.order.status).toBe('closed');
    const pay = await app.post(`/v1/sandbox/orders/${paymentId}/pay`, {}, app.keys.merchant);
    expect([pay.status, pay.body.code, pay.body.data]).toEqual([
      409,
      40991,
      { paymentId, reason: 'order_closed', status: 'closed' },
    ]);
    expect(app.sandbox.pay(paymentId).ok).toBe(false);
    const log = await app.store.readStream(`channellog-${paymentId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(log.map((event) => event.data['operation'])).toEqual(['create_order', 'close_order']);
  });

  it('credits instead of closing a payment the channel reports paid (its notification lost)', async () => {
    const paymentId = await createPayment();
    const pay = await app.post(
      `/v1/sandbox/orders/${paymentId}/pay`,
      { loseNotification: true },
      app.keys.merchant,
    );
    expect([pay.status, pay.body.data.notification]).toEqual([200, 'lost']);
    expect((await paymentOf(paymentId)).status).toBe('pending');
    const closed = await app.post(`/v1/payments/${paymentId}/close`, {}, app.keys.merchant);
    expect([closed.status, closed.body.code]).toEqual([409, 40920]);
    expect(closed.body.data.payment).toMatchObject({
      status: 'succeeded',
      recovered: true,
      channelTransactionId: pay.body.data.order.channelTransactionId,
      channelPaidAt: pay.body.data.order.updatedAt,
    });
    expect(await paymentOf(paymentId)).toMatchObject({ status: 'succeeded', recovered: true });
    expect((await app.sandbox.flush()).deliveredCount).toBe(0); // Nothing was ever sent.
  });

  it('refuses a body field it does not know, naming it', async () => {
    const paymentId = await createPayment();
    const pay = await app.post(
      `/v1/sandbox/orders/${paymentId}/pay`,
      { lose: 1 },
      app.keys.merchant,
    );
    expect(pay.status).toBe(400);
    expect(JSON.stringify(pay.body)).toContain('lose');
  });

  it('hides another merchant\u2019s sandbox order', async () => {
    const paymentId = await createPayment();
    expect((await app.get(`/v1/sandbox/orders/${paymentId}`, app.keys.merchant2)).status).toBe(404);
  });
});

describe('a late notification is judged by the channel paid time', () => {
  const expireNow = async (paymentId: string) => {
    const outcome = await app.runtime.execute(
      paymentAggregate,
      paymentId,
      { type: 'ExpirePayment', data: { now: new Date(nowMs).toISOString() } },
      systemContext('expiry-test', new Date(nowMs).toISOString()),
    );
    expect(outcome.ok).toBe(true);
  };

  it('credits an expired payment whose payer paid before expiresAt, and flags one paid after', async () => {
    const expiresAt = new Date(nowMs + 60_000).toISOString();
    const early = await createPayment(app, expiresAt);
    const late = await createPayment(app, expiresAt);
    nowMs += 120_000;
    await expireNow(early);
    await expireNow(late);
    const notify = (paymentId: string, paidAt: string, channelTransactionId: string) =>
      app.callback({
        event: 'payment.succeeded',
        paymentId,
        channelTransactionId,
        amountMinor: 1000,
        currency: 'EUR',
        paidAt,
      });
    expect((await notify(early, new Date(nowMs - 90_000).toISOString(), 'tx-early')).status).toBe(
      200,
    );
    expect(await paymentOf(early)).toMatchObject({
      status: 'succeeded',
      recovered: false,
      channelPaidAt: new Date(nowMs - 90_000).toISOString(),
      flags: [],
    });
    await notify(late, new Date(nowMs - 30_000).toISOString(), 'tx-late');
    const flagged = await paymentOf(late);
    expect(flagged.status).toBe('expired');
    expect(flagged.flags).toMatchObject([{ reason: 'paid_after_close' }]);
  });
});

describe('a channel that does not answer', () => {
  it('closes nothing and answers 503', async () => {
    const down = await createLedgerApp({ nowMs: () => nowMs });
    await down.post('/v1/accounts', { accountId: 'shop', currency: 'EUR' }, down.keys.merchant);
    const paymentId = await createPayment(down);
    down.sandbox.setScript({ failingCallCount: 100 });
    const closed = await down.post(`/v1/payments/${paymentId}/close`, {}, down.keys.merchant);
    expect([closed.status, closed.body.code]).toEqual([503, 50390]);
    expect(closed.body.msg).toContain('not closed');
    expect((await paymentOf(paymentId, down)).status).toBe('pending');
    expect(down.sandbox.order(paymentId)?.status).toBe('pending');
  });
});
