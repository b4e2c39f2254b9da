import { createLedgerApp, type LedgerApp } from './support/ledger-app';

describe('a grant on one resource: another merchant reads one account until a date', () => {
  let app: LedgerApp;
  let nowMs: number;
  beforeEach(async () => {
    nowMs = Date.now();
    app = await createLedgerApp({ nowMs: () => nowMs });
    const opened = await app.post(
      '/v1/accounts',
      { accountId: 'a-1', currency: 'EUR' },
      app.keys.merchant,
    );
    expect(opened.status).toBe(201);
  });

  it('shows the account to the grantee while the grant holds, never lets it write', async () => {
    expect((await app.get('/v1/accounts/a-1', app.keys.merchant2)).status).toBe(404);
    const expiresAt = new Date(nowMs + 60_000).toISOString();
    const granted = await app.post(
      '/v1/clients/merchant2/grants',
      { grantId: 'g-1', scopes: ['accounts:read'], resources: ['account:a-1'], expiresAt },
      app.keys.admin,
    );
    expect(granted.status).toBe(201);
    const read = await app.get('/v1/accounts/a-1', app.keys.merchant2);
    expect(read.status).toBe(200);
    expect(read.body.data.account.accountId).toBe('a-1');
    const close = await app.post('/v1/accounts/a-1/close', {}, app.keys.merchant2);
    expect(close.status).toBe(404);
    nowMs += 60_000;
    expect((await app.get('/v1/accounts/a-1', app.keys.merchant2)).status).toBe(404);
  });
});
