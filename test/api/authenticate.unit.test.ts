import type { RouteRegistrar } from '../../api/route-kit';
import { sendOk } from '../../api/envelope';
import { actorOf, clientOf } from '../../api/middleware/api-state';
import { requireScope } from '../../api/middleware/require-scope';
import { bearer, createTestApp } from './support/test-app';
import type { TestApp } from './support/test-app';

/** A scope every test client holds: these routes test something else. */
const anyRole = requireScope('catalog:read');

const whoAmI: RouteRegistrar = ({ router }) => {
  router.get('/test/whoami', anyRole, (ctx) =>
    sendOk(ctx, { client: clientOf(ctx), actor: actorOf(ctx) }),
  );
  router.get('/test/auditors', requireScope('audit:read'), (ctx) => sendOk(ctx, null));
};

describe('authentication', () => {
  let api: TestApp;
  beforeEach(async () => {
    api = await createTestApp({ routes: [whoAmI] });
  });

  const expectUnauthenticated = (response: { status: number; body: unknown; headers: object }) => {
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ code: 40101, msg: 'a valid API key is required', data: null });
    expect(response.headers).toMatchObject({ 'www-authenticate': 'Bearer' });
  };

  it('accepts a Bearer key and sets the client and the actor', async () => {
    const response = await api.http().get('/v1/test/whoami').set(bearer(api.keys.merchant));
    expect(response.status).toBe(200);
    expect(response.body.data.client).toEqual({
      clientId: 'merchant',
      role: 'merchant',
      mode: 'test',
    });
    expect(response.body.data.actor).toMatchObject({ clientId: 'merchant', role: 'merchant' });
    expect(response.body.data.actor.ip).toMatch(/127\.0\.0\.1|::1/);
  });

  it('accepts the key in X-Api-Key', async () => {
    const response = await api.http().get('/v1/test/whoami').set('X-Api-Key', api.keys.auditor);
    expect(response.status).toBe(200);
    expect(response.body.data.client).toEqual({
      clientId: 'auditor',
      role: 'auditor',
      mode: 'test',
    });
  });

  it('refuses a request without a key', async () => {
    expectUnauthenticated(await api.http().get('/v1/test/whoami'));
  });

  it('refuses an unknown key', async () => {
    expectUnauthenticated(
      await api.http().get('/v1/test/whoami').set(bearer('lsk_not-a-real-key')),
    );
  });

  it('refuses a malformed Authorization header even with a valid key in X-Api-Key', async () => {
    const response = await api
      .http()
      .get('/v1/test/whoami')
      .set('Authorization', `Basic ${api.keys.merchant}`)
      .set('X-Api-Key', api.keys.merchant);
    expectUnauthenticated(response);
  });

  it('refuses an absurdly long key without looking it up', async () => {
    expectUnauthenticated(
      await api
        .http()
        .get('/v1/test/whoami')
        .set(bearer('x'.repeat(5000))),
    );
  });

  it('refuses a revoked key', async () => {
    await api.clientStore.revoke('merchant', '2025-02-01T00:00:00.000Z');
    expectUnauthenticated(await api.http().get('/v1/test/whoami').set(bearer(api.keys.merchant)));
  });

  it('checks authentication before the method: unknown routes stay 404, not 401', async () => {
    expect((await api.http().get('/v1/test/unknown')).status).toBe(404);
  });

  it("answers 403 insufficient_scope, naming the scope, to a role without the route's scope", async () => {
    const refused = await api.http().get('/v1/test/auditors').set(bearer(api.keys.merchant));
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      code: 40350,
      msg: 'requires scope audit:read',
      data: { scope: 'audit:read' },
    });
    expect(refused.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", scope="audit:read"',
    );
    expect((await api.http().get('/v1/test/auditors').set(bearer(api.keys.auditor))).status).toBe(
      200,
    );
    expect((await api.http().get('/v1/test/auditors').set(bearer(api.keys.admin))).status).toBe(
      200,
    );
  });
});

describe('every authenticated route declares a scope', () => {
  it('refuses to build an app with a route that has no requireScope()', async () => {
    const unscoped: RouteRegistrar = ({ router }) => {
      router.get('/test/forgotten', (ctx) => sendOk(ctx, null));
    };
    await expect(createTestApp({ routes: [unscoped] })).rejects.toThrow(
      'route HEAD,GET /v1/test/forgotten has no requireScope()',
    );
  });
});
