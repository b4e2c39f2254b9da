import { requireScope } from '../../api/middleware/require-scope';
import type { RouteRegistrar } from '../../api/route-kit';
import { ApiError } from '../../api/envelope';
import { bearer, createTestApp } from './support/test-app';
import type { TestApp } from './support/test-app';

/** A scope every test client holds: these routes test something else. */
const anyRole = requireScope('catalog:read');

const namedError = (name: string, message: string, fields: Record<string, unknown> = {}): Error =>
  Object.assign(Object.defineProperty(new Error(message), 'name', { value: name }), fields);

const throwingRoutes: RouteRegistrar = ({ router }) => {
  router.get('/test/throw/bug', anyRole, () => {
    throw new Error('db password is hunter2');
  });
  router.get('/test/throw/mailbox-full', anyRole, () => {
    throw namedError('MailboxFullError', 'mailbox of account-1 full', { retryAfterMs: 2500 });
  });
  router.get('/test/throw/mailbox-full-default', anyRole, () => {
    throw namedError('MailboxFullError', 'mailbox full');
  });
  router.get('/test/throw/conflicts', anyRole, () => {
    throw namedError('ConflictRetriesExhaustedError', 'gave up after 5 conflicts');
  });
  router.get('/test/throw/unavailable', anyRole, () => {
    throw namedError('UnavailableError', 'esdb down at 10.0.0.7');
  });
  router.get('/test/throw/api-error', anyRole, () => {
    throw new ApiError('not_found', { msg: 'no such account', data: { accountId: 'a-1' } });
  });
  router.get('/test/throw/string', anyRole, () => {
    throw 'a thrown string'; // What a careless library may throw.
  });
};

describe('the app', () => {
  let api: TestApp;
  beforeEach(async () => {
    api = await createTestApp({ routes: [throwingRoutes] });
  });

  it('answers GET /v1/health without a key, in the envelope', async () => {
    const response = await api.http().get('/v1/health');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ code: 0, msg: 'ok', data: { status: 'ok' } });
  });

  it('without a tracing SDK passes an inbound traceparent through and makes up none', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const passed = await api.http().get('/v1/health').set('traceparent', traceparent);
    expect(passed.headers['traceparent']).toBe(traceparent);
    expect((await api.http().get('/v1/health')).headers['traceparent']).toBeUndefined();
    const malformed = await api.http().get('/v1/health').set('traceparent', '00-zz-01');
    expect([malformed.status, malformed.headers['traceparent']]).toEqual([200, undefined]);
  });

  it('echoes a well-formed X-Request-Id and replaces a malformed one with a uuid v7', async () => {
    const echoed = await api.http().get('/v1/health').set('X-Request-Id', 'req-123');
    expect(echoed.headers['x-request-id']).toBe('req-123');
    const replaced = await api.http().get('/v1/health').set('X-Request-Id', 'bad id\twith tab');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    const generated = await api.http().get('/v1/health');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('answers an unknown route with 404 route_not_found', async () => {
    const response = await api.http().get('/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ code: 40402, msg: 'no such route', data: null });
  });

  it('answers a wrong method with 405 method_not_allowed and Allow', async () => {
    const response = await api.http().delete('/v1/health');
    expect(response.status).toBe(405);
    expect(response.body.code).toBe(40501);
    expect(response.headers['allow']).toBe('HEAD, GET');
  });

  it('hides the message of an unknown error behind 500 and logs it with the request id', async () => {
    const response = await api
      .http()
      .get('/v1/test/throw/bug')
      .set(bearer(api.keys.merchant))
      .set('X-Request-Id', 'req-bug');
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ code: 50001, msg: 'internal error', data: null });
    expect(response.headers['x-request-id']).toBe('req-bug');
    expect(JSON.stringify(response.body)).not.toContain('hunter2');
    const failure = api.logs().find((line) => line.message === 'request_failed');
    expect(failure).toMatchObject({ level: 'error', requestId: 'req-bug' });
    expect(JSON.stringify(failure)).toContain('hunter2');
  });

  it('answers a thrown non-Error with 500 too', async () => {
    const response = await api.http().get('/v1/test/throw/string').set(bearer(api.keys.merchant));
    expect(response.status).toBe(500);
    expect(response.body.code).toBe(50001);
  });

  it.each([
    ['mailbox-full', 503, 50301, '3'],
    ['mailbox-full-default', 503, 50301, '1'],
    ['conflicts', 409, 40901, undefined],
    ['unavailable', 503, 50302, '1'],
  ])('maps %s by error name to %i', async (kind, status, code, retryAfter) => {
    const response = await api.http().get(`/v1/test/throw/${kind}`).set(bearer(api.keys.merchant));
    expect(response.status).toBe(status);
    expect(response.body.code).toBe(code);
    expect(response.headers['retry-after']).toBe(retryAfter);
    expect(JSON.stringify(response.body)).not.toMatch(/account-1|5 conflicts|10\.0\.0\.7/);
  });

  it('answers a thrown ApiError with its code, msg and data', async () => {
    const response = await api
      .http()
      .get('/v1/test/throw/api-error')
      .set(bearer(api.keys.merchant));
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      code: 40401,
      msg: 'no such account',
      data: { accountId: 'a-1' },
    });
  });

  it('writes one access-log line per request without headers, keys or bodies', async () => {
    await api
      .http()
      .post('/v1/clients')
      .set(bearer(api.keys.admin))
      .set('X-Request-Id', 'req-log')
      .send({ clientId: 'shop-9', role: 'merchant' });
    const lines = api.logs().filter((line) => line.message === 'http_request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      requestId: 'req-log',
      method: 'POST',
      path: '/v1/clients',
      status: 201,
      clientId: 'admin',
    });
    expect(typeof lines[0]?.['durationMs']).toBe('number');
    expect(api.logText()).not.toContain(api.keys.admin);
    expect(api.logText()).not.toContain('lsk_');
    expect(api.logText()).not.toContain('shop-9');
  });

  it('serves /metrics to admins only, with the request duration histogram by route', async () => {
    await api.http().get('/v1/health');
    expect((await api.http().get('/metrics')).status).toBe(401);
    expect((await api.http().get('/metrics').set(bearer(api.keys.auditor))).status).toBe(403);
    const response = await api.http().get('/metrics').set(bearer(api.keys.admin));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/v1\/health",status="200"\} \d+/,
    );
  });
});
