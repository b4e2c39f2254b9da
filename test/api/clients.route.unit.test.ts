import { bearer, createTestApp } from './support/test-app';
import type { TestApp } from './support/test-app';

describe('/v1/clients', () => {
  let api: TestApp;
  beforeEach(async () => {
    api = await createTestApp({ nowMs: () => Date.parse('2025-03-01T10:00:00.000Z') });
  });

  const create = (body: object, apiKey: string) =>
    api.http().post('/v1/clients').set(bearer(apiKey)).send(body);

  it('creates a client and shows its key once; the key authenticates', async () => {
    const response = await create({ clientId: 'shop-1', role: 'merchant' }, api.keys.admin);
    expect(response.status).toBe(201);
    expect(response.headers['location']).toBe('/v1/clients/shop-1');
    expect(response.headers['cache-control']).toBe('no-store');
    const { apiKey, ...client } = response.body.data;
    expect(client).toEqual({
      clientId: 'shop-1',
      role: 'merchant',
      mode: 'test',
      createdAt: '2025-03-01T10:00:00.000Z',
      revokedAt: null,
    });
    expect(apiKey).toMatch(/^lsk_test_[A-Za-z0-9_-]{43}$/);
    const asShop = await api.http().get('/v1/clients/shop-1').set(bearer(apiKey));
    expect(asShop.status).toBe(403); // Authenticated (not 401), but not an admin.
  });

  it('makes a live client when asked, with a visibly live key; refuses an unknown mode', async () => {
    const live = await create(
      { clientId: 'shop-1', role: 'merchant', mode: 'live' },
      api.keys.admin,
    );
    expect(live.status).toBe(201);
    expect(live.body.data).toMatchObject({ clientId: 'shop-1', mode: 'live' });
    expect(live.body.data.apiKey).toMatch(/^lsk_live_[A-Za-z0-9_-]{43}$/);
    const shown = await api.http().get('/v1/clients/shop-1').set(bearer(api.keys.admin));
    expect(shown.body.data.mode).toBe('live');
    const bad = await create(
      { clientId: 'shop-2', role: 'merchant', mode: 'demo' },
      api.keys.admin,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.data).toEqual({ field: 'mode' });
  });

  it('refuses an existing clientId with 409 client_exists', async () => {
    await create({ clientId: 'shop-1', role: 'merchant' }, api.keys.admin);
    const again = await create({ clientId: 'shop-1', role: 'auditor' }, api.keys.admin);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 40903, data: { clientId: 'shop-1' } });
  });

  it('refuses non-admins with 403 and bad bodies with 400', async () => {
    expect((await create({ clientId: 'shop-2', role: 'admin' }, api.keys.merchant)).status).toBe(
      403,
    );
    const badRole = await create({ clientId: 'shop-2', role: 'root' }, api.keys.admin);
    expect(badRole.status).toBe(400);
    expect(badRole.body.data).toEqual({ field: 'role' });
    const badId = await create({ clientId: 'shop 2', role: 'merchant' }, api.keys.admin);
    expect(badId.body.msg).toMatch(/^body\.clientId must match pattern/);
  });

  it('shows a client without its key hash, 404 for an unknown one', async () => {
    const response = await api.http().get('/v1/clients/merchant').set(bearer(api.keys.admin));
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({
      clientId: 'merchant',
      role: 'merchant',
      mode: 'test',
      createdAt: '2025-01-31T12:00:00.000Z',
      revokedAt: null,
    });
    const unknown = await api.http().get('/v1/clients/nobody').set(bearer(api.keys.admin));
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe(40401);
    const badId = await api.http().get('/v1/clients/bad.id').set(bearer(api.keys.admin));
    expect(badId.status).toBe(400);
    expect(badId.body.msg).toMatch(/^params\.clientId must match pattern/);
  });

  it('revokes a client: its key stops working, the revoke replays under its key', async () => {
    const revoke = () =>
      api
        .http()
        .post('/v1/clients/merchant/revoke')
        .set(bearer(api.keys.admin))
        .set('Idempotency-Key', 'revoke-merchant-1');
    const first = await revoke();
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({
      clientId: 'merchant',
      revokedAt: '2025-03-01T10:00:00.000Z',
    });
    expect((await api.http().get('/v1/clients/x').set(bearer(api.keys.merchant))).status).toBe(401);
    const replay = await revoke();
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
  });

  it('refuses a revoke with a non-empty body, without a key, or of an unknown client', async () => {
    const base = () => api.http().post('/v1/clients/merchant/revoke').set(bearer(api.keys.admin));
    const withBody = await base().set('Idempotency-Key', 'k1').send({ reason: 'x' });
    expect(withBody.status).toBe(400);
    expect(withBody.body.msg).toBe("body has unknown field 'reason'");
    expect((await base()).status).toBe(400);
    const unknown = await api
      .http()
      .post('/v1/clients/nobody/revoke')
      .set(bearer(api.keys.admin))
      .set('Idempotency-Key', 'k2');
    expect(unknown.status).toBe(404);
  });
});
