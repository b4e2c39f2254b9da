import { createSqlitePersonalDataVault } from '../../adapters/personal-data/sqlite.personal-data-vault';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import type { PersonalDataAccess } from '../../api/personal-data';
import { trailSecurity, type SecurityEvent } from '../../api/security-port';
import { auditBalances, verifyChains } from '../../projections/audit-toolkit';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';

const HOLDER = {
  subjectId: 'person-1',
  name: '张三丰',
  nationalId: '110101199003071234',
  phone: '13812345678',
  bankCard: '6222020200112233445',
  email: 'zhang.sanfeng@example.com',
};
const CLEAR_VALUES = Object.values(HOLDER).filter((value) => value !== HOLDER.subjectId);

describe('holder data on accounts: masking, audited clear reads, erasure', () => {
  let app: LedgerApp;
  let events: SecurityEvent[];

  beforeEach(async () => {
    events = [];
    const access: PersonalDataAccess = {
      vault: createSqlitePersonalDataVault(openSqliteDatabase(':memory:'), () => 'now'),
      security: {
        ...trailSecurity({
          record: (event) => void events.push(event),
          flush: () => Promise.resolve(),
        }),
        mayReadPii: (ctx) =>
          ctx.state.client?.role === 'admin' || ctx.state.client?.role === 'auditor',
      },
    };
    app = await createLedgerApp({ personalData: access });
    const opened = await app.post(
      '/v1/accounts',
      { accountId: 'wallet-1', currency: 'EUR', holder: HOLDER },
      app.keys.merchant,
    );
    expect(opened.status).toBe(201);
    expect(JSON.stringify(opened.body)).not.toContain(HOLDER.nationalId);
    await app.post('/v1/accounts', { accountId: 'shop', currency: 'EUR' }, app.keys.merchant);
    const moved = await app.post(
      '/v1/transfers',
      {
        transferId: 't-1',
        debitAccountId: 'shop',
        creditAccountId: 'wallet-1',
        amountMinor: 1234,
        currency: 'EUR',
      },
      app.keys.merchant,
    );
    expect(moved.status).toBe(201);
  });

  const holderAs = async (apiKey: string) => {
    const response = await app.get('/v1/accounts/wallet-1', apiKey);
    expect(response.status).toBe(200);
    return response.body.data.account as { holder: Record<string, string>; balanceMinor: number };
  };

  it('shows a merchant (no pii:read) the fields masked by the seed rules, unaudited', async () => {
    expect((await holderAs(app.keys.merchant)).holder).toEqual({
      subjectId: 'person-1',
      view: 'masked',
      name: '张**',
      nationalId: '110101********1234',
      phone: '138****5678',
      bankCard: '6222***********3445',
      email: 'z***@example.com',
    });
    expect(events.filter((event) => event.kind === 'unmasked_read')).toEqual([]);
  });

  it('shows a pii:read client (auditor) the clear fields and records the read', async () => {
    expect((await holderAs(app.keys.auditor)).holder).toEqual({ ...HOLDER, view: 'clear' });
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'unmasked_read',
        clientId: 'auditor',
        detail: {
          resource: 'account',
          id: 'wallet-1',
          subjectId: 'person-1',
          fields: ['name', 'nationalId', 'phone', 'bankCard', 'email'],
        },
      }),
    ]);
    expect(JSON.stringify(events)).not.toContain(HOLDER.phone);
  });

  it('keeps the clear values out of the event log and the logs', async () => {
    const stream = await app.store.readStream('account-wallet-1', {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    const stored = JSON.stringify(stream.map((event) => event.data));
    expect(stored).toContain('person-1');
    for (const value of CLEAR_VALUES) expect(stored).not.toContain(value);
    await holderAs(app.keys.auditor);
    for (const value of CLEAR_VALUES) expect(app.logText()).not.toContain(value);
  });

  it('erases a subject: reads show "erased", chains verify, balances are unchanged', async () => {
    const before = await holderAs(app.keys.merchant);
    expect((await app.post('/v1/subjects/person-1/erase', {}, app.keys.merchant)).status).toBe(403);
    const erased = await app.post('/v1/subjects/person-1/erase', {}, app.keys.admin);
    expect(erased.status).toBe(200);
    expect(erased.body.data).toEqual({ subjectId: 'person-1', erasedAt: expect.any(String) });
    const expected = {
      subjectId: 'person-1',
      view: 'erased',
      name: 'erased',
      nationalId: 'erased',
      phone: 'erased',
      bankCard: 'erased',
      email: 'erased',
    };
    const afterMerchant = await holderAs(app.keys.merchant);
    expect(afterMerchant.holder).toEqual(expected);
    expect((await holderAs(app.keys.auditor)).holder).toEqual(expected);
    expect(afterMerchant.balanceMinor).toBe(before.balanceMinor);
    expect(afterMerchant.balanceMinor).toBe(1234);
    expect(await verifyChains(app.store)).toMatchObject({ broken: null });
    expect(await auditBalances(app.store)).toMatchObject({ balanced: true });
    expect(events.map((event) => event.kind)).toEqual(['subject_erased']);
    // New personal data for an erased subject is refused; an unknown subject is 404.
    const again = await app.post(
      '/v1/accounts',
      { accountId: 'wallet-2', currency: 'EUR', holder: { subjectId: 'person-1', name: 'x' } },
      app.keys.merchant,
    );
    expect([again.status, again.body.code]).toEqual([422, 42240]);
    const unknown = await app.post('/v1/subjects/nobody/erase', {}, app.keys.admin);
    expect([unknown.status, unknown.body.code]).toEqual([404, 40440]);
  });

  it('seals a payment holder too: masked for the merchant, clear and audited for pii:read, erased', async () => {
    const created = await app.post(
      '/v1/payments',
      {
        merchantOrderNo: 'order-1',
        amountMinor: 500,
        currency: 'EUR',
        channel: 'sandbox',
        subject: 'Plan',
        creditAccountId: 'shop',
        holder: { subjectId: 'payer-1', name: 'Alice', phone: '+8613812345678' },
      },
      app.keys.merchant,
    );
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain('13812345678');
    const paymentId = created.body.data.payment.paymentId as string;
    const holderAs = async (apiKey: string) =>
      (await app.get(`/v1/payments/${paymentId}`, apiKey)).body.data.payment.holder;
    expect(await holderAs(app.keys.merchant)).toEqual({
      subjectId: 'payer-1',
      view: 'masked',
      name: 'A****',
      phone: '+86*******5678',
    });
    expect(await holderAs(app.keys.auditor)).toEqual({
      subjectId: 'payer-1',
      view: 'clear',
      name: 'Alice',
      phone: '+8613812345678',
    });
    expect(events.at(-1)).toMatchObject({
      kind: 'unmasked_read',
      detail: { resource: 'payment', id: paymentId },
    });
    expect((await app.post('/v1/subjects/payer-1/erase', {}, app.keys.admin)).status).toBe(200);
    expect(await holderAs(app.keys.auditor)).toEqual({
      subjectId: 'payer-1',
      view: 'erased',
      name: 'erased',
      phone: 'erased',
    });
  });

  it('refuses bad holder fields with a 400 naming the field', async () => {
    const open = (holder: object) =>
      app.post('/v1/accounts', { accountId: 'w9', currency: 'EUR', holder }, app.keys.merchant);
    const badPhone = await open({ subjectId: 's9', phone: '12ab' });
    expect(badPhone.status).toBe(400);
    expect(badPhone.body.msg).toMatch(/phone/);
    expect((await open({ subjectId: 's9', email: 'not-an-email' })).body.msg).toMatch(/email/);
    expect((await open({ subjectId: 's9' })).status).toBe(400);
    expect((await open({ subjectId: 's9', ssn: '1' })).body.msg).toMatch(/ssn/);
  });
});
