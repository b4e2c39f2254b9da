import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accountAggregate } from '../../domain/account/account.decider';
import { paymentAggregate } from '../../domain/payment/payment.decider';
import { paymentIdFor } from '../../domain/payment/payment-id';
import { eventuallyTrue } from '../support/eventually';
import { testContext } from '../support/ledger-harness';
import { createReadSideApp, type ReadSideApp } from './queries-support';

const NOW = '2026-11-22T10:00:00.000Z';

describe('the read-model query API', () => {
  let app: ReadSideApp;
  let paymentIds: string[];
  let lastPosition: string;
  beforeAll(async () => {
    app = await createReadSideApp({ afterWaitMs: 200 });
    await openAccount(app, 'shop', 'merchant');
    await openAccount(app, 'shop-2', 'merchant2');
    paymentIds = [];
    for (let index = 0; index < 5; index += 1) {
      const created = await createPayment(app, 'merchant', `order-${index}`, 100 + index, 'shop');
      paymentIds.push(created.paymentId);
      lastPosition = created.position;
    }
    await createPayment(app, 'merchant2', 'other', 7, 'shop-2');
  });
  afterAll(() => app.stop());

  it('lists payments with page_num/page_size, total_count and total_page, waiting for ?after', async () => {
    const page = await app.get(
      `/v1/payments?page_size=2&page_num=2&after=${lastPosition}`,
      app.keys.merchant,
    );
    expect(page.status).toBe(200);
    expect(page.body.data).toMatchObject({
      page_num: 2,
      page_size: 2,
      total_count: 5,
      total_page: 3,
    });
    expect(
      page.body.data.items.map((item: { merchantOrderNo: string }) => item.merchantOrderNo),
    ).toHaveLength(2);
    const all = await app.get('/v1/payments?page_size=100', app.keys.auditor);
    expect(all.body.data.total_count).toBe(6);
    const filtered = await app.get(
      '/v1/payments?status=pending&channel=sandbox&merchant_id=merchant2',
      app.keys.admin,
    );
    expect(
      filtered.body.data.items.map((item: { merchantOrderNo: string }) => item.merchantOrderNo),
    ).toEqual(['other']);
  });

  it("shows each payment's mode and filters by it for admins and auditors", async () => {
    const all = await app.get('/v1/payments?page_size=100&mode=test', app.keys.auditor);
    expect(all.body.data.total_count).toBe(6);
    expect(all.body.data.items.every((item: { mode: string }) => item.mode === 'test')).toBe(true);
    const live = await app.get('/v1/payments?mode=live', app.keys.admin);
    expect(live.body.data.total_count).toBe(0);
    const bad = await app.get('/v1/payments?mode=demo', app.keys.admin);
    expect(bad.status).toBe(400);
  });

  it('scopes merchants to their own accounts and payments, and nodes to traffic', async () => {
    expect((await app.get('/v1/payments?merchant_id=merchant2', app.keys.merchant)).status).toBe(
      403,
    );
    const accounts = await app.get('/v1/accounts', app.keys.merchant2);
    expect(accounts.body.data.items.map((item: { accountId: string }) => item.accountId)).toEqual([
      'shop-2',
    ]);
    expect((await app.get('/v1/accounts/shop/entries', app.keys.merchant2)).status).toBe(404);
    const nodeKey = await app.addClient('node-1', 'node');
    expect((await app.get('/v1/payments', nodeKey)).status).toBe(403);
    expect((await app.get('/v1/node/users', nodeKey)).body.data).toMatchObject({
      total_count: 0,
      items: [],
    });
    expect((await app.get('/v1/audit/trail', app.keys.merchant)).status).toBe(403);
  });

  it.each([
    ['an operator in brackets', '/v1/payments?status[$ne]=x'],
    ['a JSON operator object', `/v1/payments?merchant_id=${encodeURIComponent('{"$gt":""}')}`],
    ['a repeated parameter', '/v1/payments?status=pending&status=paid'],
    ['an unknown filter', '/v1/payments?amountMinor=5'],
    ['a page too large', '/v1/payments?page_size=101'],
    ['a page number of zero', '/v1/payments?page_num=0'],
    ['a malformed position', '/v1/payments?after=12abc'],
    ['a malformed instant', '/v1/payments?created_from=yesterday'],
    ['a non-boolean flag', '/v1/traffic/users?exceeded=maybe'],
  ])('answers 400 to %s', async (_what, path) => {
    const response = await app.get(path, app.keys.admin);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe(40001);
  });

  it('answers 409 position_not_reached with the current position when ?after is never reached', async () => {
    const response = await app.get('/v1/payments?after=99999999', app.keys.merchant);
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({
      code: 40960,
      data: { after: '99999999', position: app.readSide.appliedPosition()?.toString() },
    });
  });

  it('serves the audit trail, verify and reconcile to auditors', async () => {
    const trail = await app.get(
      '/v1/audit/trail?client_id=merchant2&page_size=10',
      app.keys.auditor,
    );
    expect(
      trail.body.data.items.every((item: { clientId: string }) => item.clientId === 'merchant2'),
    ).toBe(true);
    expect(trail.body.data.total_count).toBeGreaterThan(0);
    const byStream = await app.get(
      `/v1/audit/trail?stream=payment-${paymentIds[0] ?? ''}&after=${lastPosition}`,
      app.keys.auditor,
    );
    expect(byStream.body.data).toMatchObject({
      total_count: 1,
      total_page: 1,
      items: [{ type: 'PaymentCreated', clientId: 'merchant', ip: '10.0.0.1' }],
    });
    expect((await app.get('/v1/audit/verify', app.keys.auditor)).body.data).toMatchObject({
      broken: null,
    });
    const reconcile = await app.get('/v1/audit/reconcile', app.keys.auditor);
    expect(reconcile.body.data).toMatchObject({ mismatchCount: 0, balances: { balanced: true } });
    const exported = await app.get(
      `/v1/audit/events?stream=payment-${paymentIds[0] ?? ''}`,
      app.keys.auditor,
    );
    expect(exported.type).toBe('application/x-ndjson');
    expect(
      exported.text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).type),
    ).toEqual(['PaymentCreated']);
  });

  it('streams a payment going from pending to succeeded over SSE, resumable with Last-Event-ID', async () => {
    const server: Server = createServer(app.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const paymentId = paymentIds[0] ?? '';
    try {
      const { frames, close } = await openSse(
        port,
        `/v1/events/payments/${paymentId}`,
        app.keys.merchant,
        {},
      );
      await eventuallyTrue(() => frames.length >= 1, { timeoutMs: 2000, what: 'the first frame' });
      const data = {
        outcome: 'succeeded' as const,
        channelTransactionId: 'tx-1',
        amountMinor: 100,
        currency: 'EUR',
        now: NOW,
      };
      const paid = await app.ledger.runtime.execute(
        paymentAggregate,
        paymentId,
        { type: 'RecordChannelResult', data },
        testContext({ actor: { clientId: 'sandbox', role: 'channel', ip: null } }),
      );
      expect(paid.ok).toBe(true);
      await eventuallyTrue(() => frames.length >= 2, { timeoutMs: 2000, what: 'the second frame' });
      close();
      expect(frames.map((frame) => frame.data.status)).toEqual(['pending', 'succeeded']);
      const resumed = await openSse(port, `/v1/events/payments/${paymentId}`, app.keys.merchant, {
        'Last-Event-ID': frames[1]?.id ?? '',
      });
      const stale = await openSse(port, `/v1/events/payments/${paymentId}`, app.keys.merchant, {
        'Last-Event-ID': frames[0]?.id ?? '',
      });
      await eventuallyTrue(() => stale.frames.length >= 1, {
        timeoutMs: 2000,
        what: "the resumed stream's frame",
      });
      expect(stale.frames[0]?.data.status).toBe('succeeded');
      // Opened before the stale one, the resumed stream would have had its replay by now.
      expect(resumed.frames).toEqual([]);
      resumed.close();
      stale.close();
      expect((await app.get(`/v1/events/payments/${paymentId}`, app.keys.merchant2)).status).toBe(
        404,
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

const openAccount = async (
  app: ReadSideApp,
  accountId: string,
  ownerClientId: string,
): Promise<void> => {
  const data = {
    accountId,
    ownerClientId,
    currency: 'EUR',
    constraint: 'none' as const,
    metadata: {},
    now: NOW,
  };
  const outcome = await app.ledger.runtime.execute(
    accountAggregate,
    accountId,
    { type: 'OpenAccount', data },
    testContext({ actor: { clientId: ownerClientId, role: 'merchant', ip: '10.0.0.1' } }),
  );
  expect(outcome.ok).toBe(true);
};

const createPayment = async (
  app: ReadSideApp,
  merchantId: string,
  merchantOrderNo: string,
  amountMinor: number,
  creditAccountId: string,
) => {
  const paymentId = paymentIdFor(merchantId, merchantOrderNo);
  const data = {
    paymentId,
    merchantId,
    merchantOrderNo,
    amountMinor,
    currency: 'EUR',
    channel: 'sandbox' as const,
    subject: 'tea',
    creditAccountId,
    expiresAt: '2026-11-22T11:00:00.000Z',
    now: NOW,
  };
  const outcome = await app.ledger.runtime.execute(
    paymentAggregate,
    paymentId,
    { type: 'CreatePayment', data },
    testContext({ actor: { clientId: merchantId, role: 'merchant', ip: '10.0.0.1' } }),
  );
  if (!outcome.ok || outcome.position === null)
    throw new Error(`payment ${merchantOrderNo} refused`);
  return { paymentId, position: outcome.position.toString() };
};

type Frame = { id: string; data: { status: string } };

const openSse = (
  port: number,
  path: string,
  apiKey: string,
  headers: Record<string, string>,
): Promise<{ frames: Frame[]; close: () => void }> =>
  new Promise((resolve, reject) => {
    const frames: Frame[] = [];
    const request = httpRequest(
      { port, host: '127.0.0.1', path, headers: { Authorization: `Bearer ${apiKey}`, ...headers } },
      (response: IncomingMessage) => {
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          const blocks = buffer.split('\n\n');
          buffer = blocks.pop() ?? '';
          for (const block of blocks) {
            const id = /^id: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (id !== undefined && data !== undefined)
              frames.push({ id, data: JSON.parse(data) as Frame['data'] });
          }
        });
        resolve({ frames, close: () => request.destroy() });
      },
    );
    request.on('error', (error) => (request.destroyed ? undefined : reject(error)));
    request.end();
  });
