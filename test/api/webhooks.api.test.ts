import { createSqliteWebhookStore } from '../../adapters/webhooks/sqlite.webhook-store';
import { createHttpWebhookSender } from '../../adapters/webhooks/http.webhook-sender';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { webhookRoutes } from '../../api/routes/webhooks.route';
import type { WebhookStore } from '../../domain/ports/webhook-store.port';
import { bearer, createTestApp, type TestApp } from './support/test-app';

const NOW_MS = Date.parse('2026-03-01T10:00:00.000Z');
const HOOK_URL = 'https://93.184.215.14/hooks';

describe('/v1/webhook-endpoints', () => {
  let api: TestApp;
  let store: WebhookStore;
  let woken = 0;
  beforeEach(async () => {
    store = createSqliteWebhookStore(openSqliteDatabase(':memory:'));
    woken = 0;
    api = await createTestApp({
      nowMs: () => NOW_MS,
      routes: [
        webhookRoutes({
          store,
          sender: createHttpWebhookSender({
            allowedTargets: [],
            timeoutMs: 1000,
            responseBytesMax: 1024,
          }),
          newId: () => crypto.randomUUID(),
          endpointCountMax: 2,
          attemptCountMax: 10,
          wake: () => (woken += 1),
        }),
      ],
    });
  });

  const post = (path: string, body: object, apiKey = api.keys.merchant) =>
    api
      .http()
      .post(path)
      .set(bearer(apiKey))
      .set('Idempotency-Key', crypto.randomUUID())
      .send(body);
  const register = (body: object = {}, apiKey = api.keys.merchant) =>
    post(
      '/v1/webhook-endpoints',
      { url: HOOK_URL, eventTypes: ['payment.succeeded'], ...body },
      apiKey,
    );

  it('registers an endpoint, shows its secret once, lists, updates and deletes it', async () => {
    const created = await register({ description: 'orders' });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { secret, endpointId } = created.body.data as { secret: string; endpointId: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.body.data).toMatchObject({
      merchantId: 'merchant',
      url: HOOK_URL,
      eventTypes: ['payment.succeeded'],
      description: 'orders',
      enabled: true,
      failingSince: null,
      createdAt: '2026-03-01T10:00:00.000Z',
    });
    const shown = await api
      .http()
      .get(`/v1/webhook-endpoints/${endpointId}`)
      .set(bearer(api.keys.merchant));
    expect(shown.body.data).not.toHaveProperty('secret');
    const listed = await api.http().get('/v1/webhook-endpoints').set(bearer(api.keys.merchant));
    expect(listed.body.data.items).toHaveLength(1);

    const patched = await api
      .http()
      .patch(`/v1/webhook-endpoints/${endpointId}`)
      .set(bearer(api.keys.merchant))
      .send({ eventTypes: ['refund.failed', 'payment.failed'], enabled: false });
    expect(patched.body.data).toMatchObject({
      eventTypes: ['refund.failed', 'payment.failed'],
      enabled: false,
    });
    const deleted = await api
      .http()
      .delete(`/v1/webhook-endpoints/${endpointId}`)
      .set(bearer(api.keys.merchant));
    expect(deleted.status).toBe(200);
    const gone = await api
      .http()
      .get(`/v1/webhook-endpoints/${endpointId}`)
      .set(bearer(api.keys.merchant));
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe(40475);
  });

  it('keeps merchants apart: another merchant neither sees nor changes the endpoint', async () => {
    const created = await register();
    const { endpointId } = created.body.data as { endpointId: string };
    const other = api.keys.merchant2;
    expect(
      (await api.http().get(`/v1/webhook-endpoints/${endpointId}`).set(bearer(other))).status,
    ).toBe(404);
    expect(
      (await api.http().delete(`/v1/webhook-endpoints/${endpointId}`).set(bearer(other))).status,
    ).toBe(404);
    expect(
      (await api.http().get('/v1/webhook-endpoints').set(bearer(other))).body.data.items,
    ).toEqual([]);
    expect((await register({ merchantId: 'merchant2' })).status).toBe(403);
    expect(
      (await api.http().get(`/v1/webhook-endpoints/${endpointId}`).set(bearer(api.keys.auditor)))
        .status,
    ).toBe(403);
  });

  it('rotates the secret: the old one stays valid for the hours asked', async () => {
    const created = await register();
    const { endpointId, secret } = created.body.data as { endpointId: string; secret: string };
    const rotated = await post(`/v1/webhook-endpoints/${endpointId}/rotate-secret`, {
      previousSecretExpiresInHours: 2,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.secret).not.toBe(secret);
    expect(rotated.body.data.previousSecretExpiresAt).toBe('2026-03-01T12:00:00.000Z');
    expect(await store.findEndpoint(endpointId)).toMatchObject({
      secret: rotated.body.data.secret,
      previousSecret: { secret, expiresAtMs: NOW_MS + 2 * 3600 * 1000 },
    });
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'address 169.254.169.254'],
    ['http://10.0.0.7/hooks', 'address 10.0.0.7'],
    ['http://127.0.0.1:8080/hooks', 'address 127.0.0.1'],
    ['ftp://93.184.215.14/hooks', 'only http and https URLs'],
  ])('refuses %s with 422 webhook_url_refused, saying why', async (url, reason) => {
    const refused = await register({ url });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 42275, data: { field: 'url' } });
    expect(refused.body.data.reason).toContain(reason);
  });

  it('names the bad field of an invalid body and bounds the endpoints per merchant', async () => {
    const unknownType = await register({ eventTypes: ['payment.teleported'] });
    expect(unknownType.status).toBe(400);
    expect(JSON.stringify(unknownType.body)).toContain('eventTypes');
    expect((await register({ eventTypes: [] })).status).toBe(400);
    expect((await register()).status).toBe(201);
    expect((await register()).status).toBe(201);
    const third = await register();
    expect(third.status).toBe(422);
    expect(third.body).toMatchObject({ code: 42276, data: { endpointCountMax: 2 } });
  });

  it('shows an event’s delivery log and resends a delivery', async () => {
    const created = await register();
    const { endpointId } = created.body.data as { endpointId: string };
    const eventId = crypto.randomUUID();
    const deliveryId = crypto.randomUUID();
    await store.enqueue(
      [
        {
          deliveryId,
          eventId,
          eventType: 'payment.succeeded',
          endpointId,
          merchantId: 'merchant',
          body: '{}',
          status: 'pending',
          failedAttemptCount: 0,
          nextAttemptAtMs: NOW_MS,
          createdAtMs: NOW_MS,
        },
      ],
      1n,
    );
    await store.recordAttempt(
      { deliveryId, attemptedAtMs: NOW_MS, durationMs: 12, httpStatus: 500, error: 'HTTP 500' },
      null,
    );
    const log = await api
      .http()
      .get(`/v1/webhook-events/${eventId}/deliveries`)
      .set(bearer(api.keys.merchant));
    expect(log.body.data.items).toEqual([
      expect.objectContaining({
        deliveryId,
        status: 'failed',
        failedAttemptCount: 1,
        attempts: [
          {
            attemptedAt: '2026-03-01T10:00:00.000Z',
            durationMs: 12,
            httpStatus: 500,
            error: 'HTTP 500',
          },
        ],
      }),
    ]);
    const hidden = await api
      .http()
      .get(`/v1/webhook-events/${eventId}/deliveries`)
      .set(bearer(api.keys.merchant2));
    expect(hidden.body.data.items).toEqual([]);
    expect(
      (await post(`/v1/webhook-deliveries/${deliveryId}/resend`, {}, api.keys.merchant2)).status,
    ).toBe(404);
    const resent = await post(`/v1/webhook-deliveries/${deliveryId}/resend`, {});
    expect(resent.status).toBe(202);
    expect(resent.body.data).toMatchObject({
      status: 'pending',
      nextAttemptAt: '2026-03-01T10:00:00.000Z',
    });
    expect(woken).toBe(1);
  });
});
