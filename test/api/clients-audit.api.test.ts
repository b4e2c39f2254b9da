import type { SecurityAudit } from '../../api/routes/ledger-services';
import { securityAuditRoutes } from '../../api/routes/ledger-services';
import { accountRoutes } from '../../api/routes/accounts.route';
import { transferRoutes } from '../../api/routes/transfers.route';
import type { AuditRecord } from '../../domain/ports/audit.port';
import type { JsonObject } from '../../domain/ports/event-store.port';
import { createLedger } from '../support/ledger-harness';
import { bearer, createTestApp, type TestApp } from './support/test-app';

/** Admin actions and rejected commands reach the SecurityAudit bound through LedgerServices. */
type Reported = { kind: AuditRecord['kind']; actor: string | null; detail: JsonObject };

describe('security audit from the API', () => {
  let api: TestApp;
  let reported: Reported[];
  beforeEach(async () => {
    reported = [];
    const audit: SecurityAudit = {
      report: (kind, actor, detail) => void reported.push({ kind, actor, detail }),
    };
    const ledger = createLedger();
    const services = {
      runtime: ledger.runtime,
      ledger: ledger.ledger,
      traffic: ledger.traffic,
      channelVerifiers: [],
      paymentTtlMs: 60_000,
      nowMs: Date.now,
      audit,
    };
    api = await createTestApp({
      routes: [securityAuditRoutes(services), accountRoutes(services), transferRoutes(services)],
      eventStore: ledger.store,
    });
  });

  const post = (path: string, body: object, apiKey: string, key = `k-${Math.random()}`) =>
    api.http().post(path).set(bearer(apiKey)).set('Idempotency-Key', key).send(body);

  it('reports client creation and revocation as admin actions, never with the key', async () => {
    const created = await post(
      '/v1/clients',
      { clientId: 'shop-1', role: 'merchant' },
      api.keys.admin,
    );
    expect(created.status).toBe(201);
    expect((await post('/v1/clients/shop-1/revoke', {}, api.keys.admin)).status).toBe(200);
    expect(
      reported.map(({ kind, actor, detail }) => [
        kind,
        actor,
        detail['action'],
        detail['clientId'],
      ]),
    ).toEqual([
      ['admin_action', 'admin', 'create_client', 'shop-1'],
      ['admin_action', 'admin', 'revoke_client', 'shop-1'],
    ]);
    expect(JSON.stringify(reported)).not.toContain(created.body.data.apiKey as string);
  });

  it('reports nothing for refused admin requests that changed nothing', async () => {
    await post('/v1/clients', { clientId: 'shop-1', role: 'merchant' }, api.keys.admin);
    reported.length = 0;
    expect(
      (await post('/v1/clients', { clientId: 'shop-1', role: 'merchant' }, api.keys.admin)).status,
    ).toBe(409);
    expect((await post('/v1/clients/nobody/revoke', {}, api.keys.admin)).status).toBe(404);
    expect(
      (await post('/v1/clients', { clientId: 'shop-2', role: 'merchant' }, api.keys.merchant))
        .status,
    ).toBe(403);
    expect(reported).toEqual([]);
  });

  it('reports a domain rejection of a command as rejected_command with the caller', async () => {
    expect(
      (await post('/v1/accounts', { accountId: 'a1', currency: 'EUR' }, api.keys.merchant)).status,
    ).toBe(201);
    expect(
      (await post('/v1/accounts', { accountId: 'b1', currency: 'USD' }, api.keys.merchant)).status,
    ).toBe(201);
    const refused = await post(
      '/v1/transfers',
      {
        transferId: 't1',
        debitAccountId: 'a1',
        creditAccountId: 'b1',
        amountMinor: 5,
        currency: 'EUR',
      },
      api.keys.merchant,
    );
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({
      kind: 'rejected_command',
      actor: 'merchant',
      detail: { method: 'POST', path: '/v1/transfers', code: refused.body.code },
    });
  });
});
