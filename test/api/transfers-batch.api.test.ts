import { auditBalances } from '../../bin/audit-cli';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';

type Item = Record<string, unknown>;
type Result = {
  transferId: string | null;
  result: string;
  status?: string;
  code?: number;
  reason?: string;
  detail?: Record<string, unknown>;
};

const item = (
  transferId: string,
  from: string,
  to: string,
  amountMinor: number,
  extra: Item = {},
): Item => ({
  transferId,
  debitAccountId: from,
  creditAccountId: to,
  amountMinor,
  currency: 'EUR',
  ...extra,
});

const batch = (app: LedgerApp, transfers: unknown, apiKey: string, idempotencyKey?: string) =>
  app.post('/v1/transfers/batch', { transfers }, apiKey, idempotencyKey);

const resultsOf = (body: { data: { results: Result[] } }): Result[] => body.data.results;

const balanceOf = async (app: LedgerApp, accountId: string): Promise<number> => {
  const response = await app.get(`/v1/accounts/${accountId}`, app.keys.admin);
  return (response.body.data.account as { balanceMinor: number }).balanceMinor;
};

const statusOf = async (app: LedgerApp, transferId: string): Promise<number> =>
  (await app.get(`/v1/transfers/${transferId}`, app.keys.admin)).status;

describe('POST /v1/transfers/batch', () => {
  let app: LedgerApp;
  beforeAll(async () => {
    app = await createLedgerApp();
    for (const [accountId, extra, key] of [
      ['clearing', {}, app.keys.admin],
      ['wallet', { constraint: 'debits_must_not_exceed_credits' }, app.keys.admin],
      ['shop', {}, app.keys.admin],
      ['fees', {}, app.keys.admin],
      ['merchant-wallet', {}, app.keys.merchant],
    ] as const)
      expect(
        (await app.post('/v1/accounts', { accountId, currency: 'EUR', ...extra }, key)).status,
      ).toBe(201);
    const funded = await batch(app, [item('fund', 'clearing', 'wallet', 1000)], app.keys.admin);
    expect(resultsOf(funded.body)).toEqual([
      { transferId: 'fund', result: 'created', status: 'posted' },
    ]);
  });

  it('decides every item in order, answering each', async () => {
    const response = await batch(
      app,
      [
        item('b1', 'wallet', 'shop', 300),
        item('b2', 'wallet', 'shop', 800),
        item('b3', 'wallet', 'shop', 700, { mode: 'two_phase' }),
        item('b1', 'wallet', 'shop', 300),
      ],
      app.keys.admin,
    );
    expect(response.status).toBe(200);
    expect(response.body.data.position).toMatch(/^\d+$/);
    expect(resultsOf(response.body)).toEqual([
      { transferId: 'b1', result: 'created', status: 'posted' },
      {
        transferId: 'b2',
        result: 'refused',
        code: 42211,
        reason: 'insufficient_funds',
        detail: { side: 'debit' },
      },
      { transferId: 'b3', result: 'created', status: 'pending' },
      { transferId: 'b1', result: 'existed', status: 'posted' },
    ]);
    expect(response.body.data.refusedCount).toBe(1);
    expect(await balanceOf(app, 'shop')).toBe(300);
  });

  it('applies none of a linked chain with one refused item, naming the item that broke it', async () => {
    const before = await balanceOf(app, 'shop');
    const response = await batch(
      app,
      [
        item('pay-merchant', 'clearing', 'shop', 900, { linked: true }),
        item('pay-fee', 'clearing', 'fees', 100, { linked: true }),
        item('pay-overdraw', 'wallet', 'shop', 1_000_000),
        item('pay-after', 'clearing', 'shop', 1),
      ],
      app.keys.admin,
    );
    expect(
      resultsOf(response.body).map((result) => [result.transferId, result.reason ?? result.result]),
    ).toEqual([
      ['pay-merchant', 'linked_transfer_failed'],
      ['pay-fee', 'linked_transfer_failed'],
      ['pay-overdraw', 'insufficient_funds'],
      ['pay-after', 'created'],
    ]);
    expect(resultsOf(response.body)[0]?.detail).toEqual({ failedIndex: 2 });
    expect(await balanceOf(app, 'shop')).toBe(before + 1);
    expect(await balanceOf(app, 'fees')).toBe(0);
    // A failed chain records nothing: its ids can be sent again.
    expect(await statusOf(app, 'pay-merchant')).toBe(404);
    expect(await statusOf(app, 'pay-overdraw')).toBe(404);
  });

  it('fails a chain left open at the end of the batch', async () => {
    const response = await batch(
      app,
      [item('open-1', 'clearing', 'shop', 1, { linked: true })],
      app.keys.admin,
    );
    expect(resultsOf(response.body)).toEqual([
      {
        transferId: 'open-1',
        result: 'refused',
        code: 42227,
        reason: 'linked_chain_open',
        detail: {},
      },
    ]);
  });

  it('refuses a bad item by itself, naming its field, with its chain, and keeps the rest', async () => {
    const response = await batch(
      app,
      [
        item('bad-1', 'clearing', 'shop', '5' as unknown as number),
        item('chained-a', 'clearing', 'shop', 1, { linked: true }),
        item('chained-b', 'clearing', 'shop', 1, { currency: 'EURO' }),
        item('good-1', 'clearing', 'shop', 1),
      ],
      app.keys.admin,
    );
    const results = resultsOf(response.body);
    expect(results[0]).toMatchObject({
      transferId: 'bad-1',
      result: 'refused',
      code: 40001,
      detail: { field: 'amountMinor', msg: 'body.transfers.0.amountMinor must be integer' },
    });
    expect(results[1]).toMatchObject({
      transferId: 'chained-a',
      reason: 'linked_transfer_failed',
      detail: { failedIndex: 2 },
    });
    expect(results[2]).toMatchObject({
      transferId: 'chained-b',
      code: 40001,
      detail: { field: 'currency' },
    });
    expect(results[3]).toEqual({ transferId: 'good-1', result: 'created', status: 'posted' });
    expect(await statusOf(app, 'chained-a')).toBe(404);
  });

  it('answers a malformed body with 400 and writes nothing', async () => {
    for (const body of [{ transfers: [] }, { transfers: 'x' }, { transfers: [1] }, { items: [] }]) {
      const response = await app.post('/v1/transfers/batch', body, app.keys.admin);
      expect([JSON.stringify(body), response.status, response.body.code]).toEqual([
        JSON.stringify(body),
        400,
        40001,
      ]);
    }
    const tooMany = Array.from({ length: 8191 }, (_, index) =>
      item(`many-${index}`, 'clearing', 'shop', 1),
    );
    const response = await batch(app, tooMany, app.keys.admin);
    expect(response.status).toBe(400);
    expect(await statusOf(app, 'many-0')).toBe(404);
  });

  it('takes 8,190 transfers in one request', async () => {
    const before = await balanceOf(app, 'shop');
    const full = Array.from({ length: 8190 }, (_, index) =>
      item(`full-${index}`, 'clearing', 'shop', 1),
    );
    const response = await batch(app, full, app.keys.admin);
    expect(response.status).toBe(200);
    expect(resultsOf(response.body).filter((result) => result.result === 'created')).toHaveLength(
      8190,
    );
    expect(await balanceOf(app, 'shop')).toBe(before + 8190);
  });

  it('replays the first answer for the same key and body, and refuses the key with another body', async () => {
    const transfers = [item('replayed', 'clearing', 'shop', 5)];
    const first = await batch(app, transfers, app.keys.admin, 'batch-key-1');
    const again = await batch(app, transfers, app.keys.admin, 'batch-key-1');
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const other = await batch(
      app,
      [item('replayed-2', 'clearing', 'shop', 5)],
      app.keys.admin,
      'batch-key-1',
    );
    expect([other.status, other.body.code]).toEqual([422, 42201]);
    expect(await statusOf(app, 'replayed-2')).toBe(404);
  });

  it('lets a merchant debit only its own accounts', async () => {
    const response = await batch(
      app,
      [
        item('m-own', 'merchant-wallet', 'shop', 1),
        item('m-theft', 'clearing', 'merchant-wallet', 1),
      ],
      app.keys.merchant,
    );
    expect(resultsOf(response.body).map((result) => result.reason ?? result.status)).toEqual([
      'posted',
      'account_not_found',
    ]);
    expect(await statusOf(app, 'm-theft')).toBe(404);
  });

  it('keeps Σ credits − Σ debits = 0', async () => {
    expect(await auditBalances(app.store)).toMatchObject({ balanced: true, openTransferCount: 0 });
  });
});
