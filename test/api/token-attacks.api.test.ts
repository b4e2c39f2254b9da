import { createHmac, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { bearer, createTestApp, type TestApp } from './support/test-app';
import { currentSigningKey, scopedRoutes } from './support/oauth';

const base64url = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Each forged token differs from a valid one in exactly one defence, so that each test fails if
 * that defence is removed; the first test shows the unforged baseline is accepted.
 */
describe('bearer tokens: every attack is refused with 401 invalid_token', () => {
  let app: TestApp;
  let nowMs: number;
  let key: { kid: string; privateKey: KeyObject };
  const nowS = (): number => Math.floor(nowMs / 1000);
  const claims = (): JWTPayload => ({
    iss: 'http://ledger.test',
    aud: 'ledger-api',
    sub: 'merchant',
    client_id: 'merchant',
    scope: 'accounts:read',
    jti: 'token-1',
    iat: nowS(),
    exp: nowS() + 900,
  });
  const sign = (
    payload: JWTPayload,
    header: Record<string, string> = {},
    privateKey = key.privateKey,
  ): Promise<string> =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid, ...header })
      .sign(privateKey);
  const call = (token: string) => app.http().get('/v1/test/accounts').set(bearer(token));
  const expectRefused = async (token: string, reason: string): Promise<void> => {
    const response = await call(token);
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      code: 40150,
      msg: 'the access token is invalid, expired or revoked',
      data: null,
    });
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    await app.securityEvents.recorder.flush();
    const failures = await app.securityEvents.store.list({
      kind: 'authentication_failed',
      fromIso: null,
      toIso: null,
      afterSequence: 0,
      countMax: 10,
    });
    expect(failures.map((event) => event.detail['reason'])).toContain(reason);
  };

  beforeEach(async () => {
    nowMs = Date.parse('2026-03-01T12:00:00.000Z');
    app = await createTestApp({ routes: [scopedRoutes], nowMs: () => nowMs });
    key = currentSigningKey(app);
  });

  it('accepts the unforged token (the baseline every attack departs from)', async () => {
    expect((await call(await sign(claims()))).status).toBe(200);
  });

  it('refuses alg none', async () => {
    const header = { alg: 'none', typ: 'at+jwt', kid: key.kid };
    await expectRefused(`${base64url(header)}.${base64url(claims())}.`, 'alg_refused');
  });

  it('refuses HS256 keyed with the public key (algorithm confusion)', async () => {
    const header = { alg: 'HS256', typ: 'at+jwt', kid: key.kid };
    const input = `${base64url(header)}.${base64url(claims())}`;
    const publicPem = createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' });
    const mac = createHmac('sha256', publicPem).update(input).digest('base64url');
    await expectRefused(`${input}.${mac}`, 'alg_refused');
  });

  it('refuses another typ (an ID token or plain JWT signed by the same key)', async () => {
    await expectRefused(await sign(claims(), { typ: 'JWT' }), 'typ_refused');
  });

  it('refuses another audience', async () => {
    await expectRefused(await sign({ ...claims(), aud: 'other-api' }), 'wrong_audience');
  });

  it('refuses another issuer', async () => {
    await expectRefused(await sign({ ...claims(), iss: 'http://evil.test' }), 'wrong_issuer');
  });

  it('refuses a token without exp', async () => {
    const { exp: _exp, ...withoutExp } = claims();
    await expectRefused(await sign(withoutExp), 'missing_claim');
  });

  it('accepts exp 59 s past (leeway) and refuses it 61 s past', async () => {
    const token = await sign(claims());
    nowMs += 900_000 + 59_000;
    expect((await call(token)).status).toBe(200);
    nowMs += 2000;
    await expectRefused(token, 'expired');
  });

  it('refuses a token first seen 61 s after its exp (not only one remembered as verified)', async () => {
    await expectRefused(
      await sign({ ...claims(), iat: nowS() - 961, exp: nowS() - 61 }),
      'expired',
    );
  });

  it('refuses a lifetime over 15 minutes', async () => {
    await expectRefused(await sign({ ...claims(), exp: nowS() + 3600 }), 'lifetime_too_long');
  });

  it('refuses an unknown kid, even with a valid signature of that other key', async () => {
    const other = generateKeyPairSync('ed25519').privateKey;
    await expectRefused(await sign(claims(), { kid: 'aaaaaaaaaaaaaaaa' }, other), 'unknown_kid');
  });

  it('refuses a bad signature (claims changed after signing)', async () => {
    const [header, , signature] = (await sign(claims())).split('.');
    const widened = base64url({ ...claims(), scope: 'accounts:read audit:read' });
    await expectRefused(`${header}.${widened}.${signature}`, 'bad_signature');
  });

  it('refuses a valid token of a revoked client', async () => {
    const token = await sign(claims());
    expect((await call(token)).status).toBe(200);
    await app.clientStore.revoke('merchant', new Date(nowMs).toISOString());
    await expectRefused(token, 'revoked_client');
  });

  it('never grants more than the client holds, whatever the token says', async () => {
    const token = await sign({ ...claims(), scope: 'accounts:read audit:read clients:admin' });
    const response = await app.http().get('/v1/security-events').set(bearer(token));
    expect(response.status).toBe(403);
    expect(response.body.data).toEqual({ scope: 'audit:read' });
  });
});
