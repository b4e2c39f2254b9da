import { bearer, createTestApp, type TestApp } from './support/test-app';
import { issueSecret, requestToken } from './support/oauth';

const HOUR_MS = 3600 * 1000;

describe('grants: extra scopes until a date, audited', () => {
  let app: TestApp;
  let nowMs: number;
  const admin = (): Record<string, string> => bearer(app.keys.admin);
  const grant = (clientId: string, body: Record<string, unknown>, key = 'grant-1') =>
    app
      .http()
      .post(`/v1/clients/${clientId}/grants`)
      .set(admin())
      .set('Idempotency-Key', key)
      .send(body);
  const securityEvents = (merchantKey: string) =>
    app.http().get('/v1/security-events').set(bearer(merchantKey));

  beforeEach(async () => {
    nowMs = Date.parse('2026-03-01T12:00:00.000Z');
    app = await createTestApp({ nowMs: () => nowMs });
  });

  it('works until expiresAt and stops by itself, with no sweeper', async () => {
    expect((await securityEvents(app.keys.merchant)).status).toBe(403);
    const expiresAt = new Date(nowMs + HOUR_MS).toISOString();
    const added = await grant('merchant', { grantId: 'g-1', scopes: ['audit:read'], expiresAt });
    expect(added.status).toBe(201);
    expect(added.body.data).toMatchObject({ grantId: 'g-1', status: 'active', grantedBy: 'admin' });
    expect((await securityEvents(app.keys.merchant)).status).toBe(200);
    nowMs += HOUR_MS - 1;
    expect((await securityEvents(app.keys.merchant)).status).toBe(200);
    nowMs += 1;
    const refused = await securityEvents(app.keys.merchant);
    expect(refused.status).toBe(403);
    expect(refused.body.data).toEqual({ scope: 'audit:read' });
    const listed = await app.http().get('/v1/clients/merchant/grants').set(admin());
    expect(listed.body.data.grants).toEqual([expect.objectContaining({ status: 'expired' })]);
  });

  it('lets a token carry a granted scope, and the token loses it when the grant expires', async () => {
    const tenMinutesMs = 10 * 60 * 1000;
    const expiresAt = new Date(nowMs + tenMinutesMs).toISOString();
    await grant('merchant', { grantId: 'g-1', scopes: ['audit:read'], expiresAt });
    const secret = await issueSecret(app, 'merchant');
    const issued = await requestToken(app, 'merchant', secret, {
      grant_type: 'client_credentials',
      scope: 'audit:read',
    });
    expect(issued.status).toBe(200);
    const token = issued.body.access_token as string;
    expect((await securityEvents(token)).status).toBe(200);
    nowMs += tenMinutesMs; // The token lives 15 minutes; the grant has ended.
    const refused = await securityEvents(token);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe(40350);
  });

  it('revokes a grant at once', async () => {
    const expiresAt = new Date(nowMs + HOUR_MS).toISOString();
    await grant('merchant', { grantId: 'g-1', scopes: ['audit:read'], expiresAt });
    const revoked = await app
      .http()
      .post('/v1/clients/merchant/grants/g-1/revoke')
      .set(admin())
      .set('Idempotency-Key', 'revoke-1');
    expect(revoked.body.data.status).toBe('revoked');
    expect((await securityEvents(app.keys.merchant)).status).toBe(403);
    const unknown = await app
      .http()
      .post('/v1/clients/merchant/grants/g-9/revoke')
      .set(admin())
      .set('Idempotency-Key', 'revoke-9');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe(40450);
  });

  it('records every grant change in the security trail, with who, IP and request id', async () => {
    const expiresAt = new Date(nowMs + HOUR_MS).toISOString();
    await grant('merchant', {
      grantId: 'g-1',
      scopes: ['accounts:read'],
      resources: ['account:a-1'],
      expiresAt,
    }).set('X-Request-Id', 'req-grant-1');
    await app
      .http()
      .post('/v1/clients/merchant/grants/g-1/revoke')
      .set(admin())
      .set('Idempotency-Key', 'revoke-1');
    const trail = await app
      .http()
      .get('/v1/security-events?kind=grant_added')
      .set(bearer(app.keys.auditor));
    expect(trail.body.data.events).toEqual([
      expect.objectContaining({
        kind: 'grant_added',
        clientId: 'admin',
        requestId: 'req-grant-1',
        detail: {
          grantId: 'g-1',
          subjectClientId: 'merchant',
          scopes: ['accounts:read'],
          resources: ['account:a-1'],
          expiresAt,
        },
      }),
    ]);
    expect(trail.body.data.events[0].ip).toMatch(/127\.0\.0\.1|::1/);
    const revoked = await app
      .http()
      .get('/v1/security-events?kind=grant_revoked')
      .set(bearer(app.keys.auditor));
    expect(revoked.body.data.events).toHaveLength(1);
  });

  it.each([
    [{ grantId: 'g', scopes: ['no:such'], expiresAt: '2026-03-02T00:00:00Z' }, 'scopes'],
    [{ grantId: 'g', scopes: ['audit:read'], expiresAt: '2026-02-01T00:00:00Z' }, 'expiresAt'],
    [{ grantId: 'g', scopes: ['audit:read'], expiresAt: '2028-01-01T00:00:00Z' }, 'expiresAt'],
    [
      { grantId: 'g', scopes: ['audit:read'], resources: ['x'], expiresAt: '2026-03-02T00:00Z' },
      'resources',
    ],
  ])('refuses %j naming %s', async (body, field) => {
    const response = await grant('merchant', body);
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain(field);
  });

  it('is admin-only: a merchant cannot grant itself anything', async () => {
    const response = await app
      .http()
      .post('/v1/clients/merchant/grants')
      .set(bearer(app.keys.merchant))
      .set('Idempotency-Key', 'self')
      .send({ grantId: 'g', scopes: ['audit:read'], expiresAt: '2026-03-02T00:00:00Z' });
    expect(response.status).toBe(403);
    expect(response.body.data).toEqual({ scope: 'clients:admin' });
  });
});
