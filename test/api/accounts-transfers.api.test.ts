import { auditBalances } from '../../bin/audit-cli';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';

const open = (
  app: LedgerApp,
  accountId: string,
  key: string,
  extra: Record<string, unknown> = {},
) => app.post('/v1/accounts', { accountId, currency: 'EUR', ...extra }, key);
const transfer = (
  app: LedgerApp,
  transferId: string,
  from: string,
  to: string,
  amountMinor: number,
  key: string,
  extra: Record<string, unknown> = {},
) =>
  app.post(
    '/v1/transfers',
    {
      transferId,
      debitAccountId: from,
      creditAccountId: to,
      amountMinor,
      currency: 'EUR',
      ...extra,
    },
    key,
  );

describe('accounts and transfers over HTTP', () => {
  let app: LedgerApp;
  beforeAll(async () => {
    app = await createLedgerApp();
    expect((await open(app, 'clearing', app.keys.admin)).status).toBe(201);
    expect(
      (await open(app, 'wallet', app.keys.admin, { constraint: 'debits_must_not_exceed_credits' }))
        .status,
    ).toBe(201);
    expect((await open(app, 'shop', app.keys.merchant)).status).toBe(201);
    expect((await transfer(app, 'fund', 'clearing', 'wallet', 10_000, app.keys.admin)).status).toBe(
      201,
    );
  });

  it('opens an account and returns it with the position of its event', async () => {
    const response = await open(app, 'fresh', app.keys.admin, { metadata: { owner: 'alice' } });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      code: 0,
      data: { account: { accountId: 'fresh', balanceMinor: 0, ownerClientId: 'admin' } },
    });
    expect(response.body.data.position).toMatch(/^\d+$/);
  });

  it('refuses to reopen an account with other terms, naming the field', async () => {
    const response = await open(app, 'fresh2', app.keys.admin);
    expect(response.status).toBe(201);
    const again = await app.post(
      '/v1/accounts',
      { accountId: 'fresh2', currency: 'USD' },
      app.keys.admin,
    );
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 40910, data: { field: 'currency' } });
  });

  it('moves money single-phase and shows balances', async () => {
    const response = await transfer(app, 't-single', 'wallet', 'shop', 2500, app.keys.admin, {
      reference: 'order 1',
    });
    expect(response.status).toBe(201);
    expect(response.body.data.transfer).toMatchObject({ status: 'posted', amountMinor: 2500 });
    const shop = await app.get('/v1/accounts/shop', app.keys.merchant);
    expect(shop.body.data.account).toMatchObject({ balanceMinor: 2500, creditsPostedMinor: 2500 });
  });

  it('answers 422 insufficient_funds and records the refusal', async () => {
    const response = await transfer(app, 't-too-much', 'wallet', 'shop', 1_000_000, app.keys.admin);
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({
      code: 42211,
      data: { side: 'debit', transfer: { status: 'rejected' } },
    });
    const stored = await app.get('/v1/transfers/t-too-much', app.keys.admin);
    expect(stored.body.data.transfer.rejection).toEqual({
      reason: 'insufficient_funds',
      side: 'debit',
    });
  });

  it('refuses a reused transferId with other terms, naming the field', async () => {
    await transfer(app, 't-dup', 'wallet', 'shop', 10, app.keys.admin);
    const response = await transfer(app, 't-dup', 'wallet', 'shop', 11, app.keys.admin);
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: 40915, data: { field: 'amountMinor' } });
  });

  it('reserves, partially posts and then refuses to void a two-phase transfer', async () => {
    const pending = await transfer(app, 't-2pc', 'wallet', 'shop', 1000, app.keys.admin, {
      mode: 'two_phase',
      timeoutMs: 60_000,
    });
    expect(pending.body.data.transfer).toMatchObject({ status: 'pending' });
    expect(pending.body.data.transfer.expiresAt).not.toBeNull();
    const wallet = await app.get('/v1/accounts/wallet', app.keys.admin);
    expect(wallet.body.data.account.debitsPendingMinor).toBe(1000);
    const posted = await app.post('/v1/transfers/t-2pc/post', { amountMinor: 600 }, app.keys.admin);
    expect(posted.body.data.transfer).toMatchObject({ status: 'posted', postedAmountMinor: 600 });
    const voided = await app.post('/v1/transfers/t-2pc/void', {}, app.keys.admin);
    expect(voided.status).toBe(409);
    expect(voided.body.code).toBe(40917);
  });

  it('voids a two-phase transfer', async () => {
    await transfer(app, 't-void', 'wallet', 'shop', 300, app.keys.admin, { mode: 'two_phase' });
    const voided = await app.post('/v1/transfers/t-void/void', {}, app.keys.admin);
    expect(voided.body.data.transfer.status).toBe('voided');
  });

  it('refuses to post more than pending', async () => {
    await transfer(app, 't-over', 'wallet', 'shop', 100, app.keys.admin, { mode: 'two_phase' });
    const response = await app.post(
      '/v1/transfers/t-over/post',
      { amountMinor: 101 },
      app.keys.admin,
    );
    expect(response.status).toBe(422);
    expect(response.body.code).toBe(42214);
  });

  it('hides other clients\u2019 accounts and forbids debiting them', async () => {
    expect((await app.get('/v1/accounts/wallet', app.keys.merchant2)).status).toBe(404);
    const response = await transfer(app, 't-steal', 'shop', 'wallet', 1, app.keys.merchant2);
    expect(response.status).toBe(404);
    expect((await app.get('/v1/transfers/t-steal', app.keys.admin)).status).toBe(404);
  });

  it('answers GET /v1/accounts/{id}?at= with the account at that position of the log', async () => {
    expect((await open(app, 'then', app.keys.admin)).status).toBe(201);
    const first = await transfer(app, 'then-1', 'clearing', 'then', 700, app.keys.admin);
    expect((await transfer(app, 'then-2', 'clearing', 'then', 5, app.keys.admin)).status).toBe(201);
    const position = String(first.body.data.position);
    const then = await app.get(`/v1/accounts/then?at=${position}`, app.keys.admin);
    expect(then.status).toBe(200);
    expect(then.body.data).toMatchObject({
      accountId: 'then',
      at: { position },
      account: { balanceMinor: 700 },
    });
    // The position of the account's own last event then: its leg, just before the transfer's.
    expect(BigInt(then.body.data.position)).toBeLessThan(BigInt(position));
    const now = await app.get('/v1/accounts/then', app.keys.admin);
    expect(now.body.data.account.balanceMinor).toBe(705);
    const bad = await app.get('/v1/accounts/then?at=yesterday', app.keys.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.data).toMatchObject({ field: 'at' });
    const before = await app.get('/v1/accounts/then?asOf=2000-01-01T00:00:00Z', app.keys.admin);
    expect(before.status).toBe(404);
    expect((await app.get(`/v1/accounts/then?at=${position}`, app.keys.merchant)).status).toBe(404);
  });

  it('keeps Σ credits − Σ debits = 0', async () => {
    const report = await auditBalances(app.store);
    expect(report).toMatchObject({ balanced: true, openTransferCount: 0 });
  });
});
