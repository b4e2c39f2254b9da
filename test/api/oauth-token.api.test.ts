import { decodeJwt, decodeProtectedHeader } from 'jose';
import { bearer, createTestApp, type TestApp } from './support/test-app';
import { issueSecret, requestToken, scopedRoutes } from './support/oauth';

describe('POST /v1/oauth/token (client credentials)', () => {
  let app: TestApp;
  let secret: string;
  beforeEach(async () => {
    app = await createTestApp({ routes: [scopedRoutes] });
    secret = await issueSecret(app, 'merchant');
  });

  it('answers an RFC 9068 JWT for client_secret_basic, and the token calls the API', async () => {
    const response = await requestToken(app, 'merchant', secret);
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const token = response.body.access_token as string;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: 'http://ledger.test',
      aud: 'ledger-api',
      client_id: 'merchant',
      sub: 'merchant',
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(900);
    expect(typeof claims.jti).toBe('string');
    expect(String(claims.scope).split(' ')).toEqual(
      expect.arrayContaining(['accounts:read', 'transfers:write']),
    );
    expect(String(claims.scope)).not.toContain('audit:read');
    const called = await app.http().get('/v1/test/accounts').set(bearer(token));
    expect(called.status).toBe(200);
    expect(called.body.data).toEqual({ clientId: 'merchant' });
  });

  it('accepts client_secret_post, and a requested subset of scopes', async () => {
    const response = await app.http().post('/v1/oauth/token').type('form').send({
      grant_type: 'client_credentials',
      client_id: 'merchant',
      client_secret: secret,
      scope: 'accounts:read',
    });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('accounts:read');
    const token = bearer(response.body.access_token as string);
    expect((await app.http().get('/v1/test/accounts').set(token)).status).toBe(200);
    // The same client's token is refused a route outside the scopes it was issued with.
    const refused = await app.http().get('/v1/test/transfers').set(token);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 40350,
      msg: 'requires scope transfers:write',
      data: { scope: 'transfers:write' },
    });
    // The API key of that client still holds the scope: keys keep their role's behaviour.
    expect((await app.http().get('/v1/test/transfers').set(bearer(app.keys.merchant))).status).toBe(
      200,
    );
  });

  it('refuses a wrong secret with 401 invalid_client and WWW-Authenticate: Basic', async () => {
    const response = await requestToken(app, 'merchant', `${secret}x`);
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: 'invalid_client', code: 40151 });
    expect(response.headers['www-authenticate']).toMatch(/^Basic /);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('refuses an unknown client, a client without a secret and a revoked one alike', async () => {
    const auditorKeyAsSecret = await requestToken(app, 'auditor', app.keys.auditor);
    expect(auditorKeyAsSecret.status).toBe(401);
    expect((await requestToken(app, 'nobody', secret)).body.error).toBe('invalid_client');
    await app.clientStore.revoke('merchant', '2025-02-01T00:00:00.000Z');
    expect((await requestToken(app, 'merchant', secret)).body.error).toBe('invalid_client');
  });

  it.each([
    [{ grant_type: 'password' }, 400, 'unsupported_grant_type'],
    [{}, 400, 'invalid_request'],
    [{ grant_type: 'client_credentials', scope: 'audit:read' }, 400, 'invalid_scope'],
    [{ grant_type: 'client_credentials', scope: 'no:such' }, 400, 'invalid_scope'],
  ])('answers %j with %i %s', async (form, status, error) => {
    const response = await requestToken(app, 'merchant', secret, form);
    expect(response.status).toBe(status);
    expect(response.body.error).toBe(error);
  });

  it('refuses a JSON body, a repeated parameter and two authentication methods', async () => {
    const json = await app
      .http()
      .post('/v1/oauth/token')
      .send({ grant_type: 'client_credentials', client_id: 'merchant', client_secret: secret });
    expect(json.body.error).toBe('invalid_request');
    const repeated = await app
      .http()
      .post('/v1/oauth/token')
      .auth('merchant', secret)
      .type('form')
      .send('grant_type=client_credentials&grant_type=client_credentials');
    expect(repeated.body).toMatchObject({
      error: 'invalid_request',
      msg: 'a parameter is repeated',
    });
    const both = await requestToken(app, 'merchant', secret, {
      grant_type: 'client_credentials',
      client_secret: secret,
    });
    expect(both.body.error).toBe('invalid_request');
  });

  it('records tokens issued and failed client authentications, never the secret', async () => {
    await requestToken(app, 'merchant', secret).set('X-Request-Id', 'req-token-1');
    await requestToken(app, 'merchant', 'wrong-secret');
    await app.securityEvents.recorder.flush();
    const events = await app.securityEvents.store.list({
      kind: null,
      fromIso: null,
      toIso: null,
      afterSequence: 0,
      countMax: 100,
    });
    const issued = events.find((event) => event.kind === 'token_issued');
    expect(issued).toMatchObject({
      clientId: 'merchant',
      requestId: 'req-token-1',
      detail: { authMethod: 'client_secret_basic' },
    });
    expect(issued?.ip).toMatch(/127\.0\.0\.1|::1/);
    expect(events.find((event) => event.kind === 'authentication_failed')).toMatchObject({
      clientId: 'merchant',
      detail: { reason: 'invalid_client' },
    });
    expect(JSON.stringify(events)).not.toContain(secret);
    expect(app.logText()).not.toContain(secret);
  });
});
