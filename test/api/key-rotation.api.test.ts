import { statSync } from 'node:fs';
import { decodeProtectedHeader } from 'jose';
import { rotateKeyRing, tokenKeysPath } from '../../adapters/tokens/key-ring-file';
import { bearer, createTestApp, type TestApp } from './support/test-app';
import { issueSecret, requestToken, scopedRoutes } from './support/oauth';

const OVERLAP_S = 1800;

describe('signing keys: JWKS and rotation with an overlap', () => {
  let app: TestApp;
  let nowMs: number;
  let secret: string;
  const token = async (): Promise<string> =>
    (await requestToken(app, 'merchant', secret)).body.access_token as string;
  const kids = async (): Promise<string[]> => {
    const response = await app.http().get('/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    return (response.body.keys as Array<{ kid: string }>).map((jwk) => jwk.kid);
  };

  beforeEach(async () => {
    nowMs = Date.parse('2026-03-01T12:00:00.000Z');
    app = await createTestApp({
      routes: [scopedRoutes],
      nowMs: () => nowMs,
      oauth: { keyOverlapS: OVERLAP_S },
    });
    secret = await issueSecret(app, 'merchant');
  });

  it('keeps the key file private (mode 0600) and publishes only public keys', async () => {
    expect(statSync(tokenKeysPath(app.dataDir)).mode & 0o777).toBe(0o600);
    const response = await app.http().get('/.well-known/jwks.json');
    expect(response.body.keys).toHaveLength(1);
    expect(response.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(response.body.keys[0].d).toBeUndefined();
  });

  it('signs with the new key after a rotation, verifies the old one through the overlap only', async () => {
    const before = await token();
    const oldKid = decodeProtectedHeader(before).kid;
    const rotation = rotateKeyRing({
      filePath: tokenKeysPath(app.dataDir),
      nowMs,
      overlapMs: OVERLAP_S * 1000,
    });
    expect(rotation.kidPrevious).toBe(oldKid);
    const after = await token();
    expect(decodeProtectedHeader(after).kid).toBe(rotation.kidNew);
    expect(await kids()).toEqual([rotation.kidNew, oldKid]);
    nowMs += 10 * 60 * 1000; // Inside the overlap and the token's lifetime.
    expect((await app.http().get('/v1/test/accounts').set(bearer(before))).status).toBe(200);
    nowMs += OVERLAP_S * 1000; // Past the overlap: the old key is gone from JWKS and verification.
    expect(await kids()).toEqual([rotation.kidNew]);
    // The kid is checked before the expiry: the reason shows the key itself was dropped.
    expect(await app.tokens.verify(before, nowMs)).toEqual({ ok: false, reason: 'unknown_kid' });
  });

  it('drops keys whose overlap has ended at the next rotation', async () => {
    const filePath = tokenKeysPath(app.dataDir);
    const first = rotateKeyRing({ filePath, nowMs, overlapMs: OVERLAP_S * 1000 });
    nowMs += (OVERLAP_S + 1) * 1000;
    const second = rotateKeyRing({ filePath, nowMs, overlapMs: OVERLAP_S * 1000 });
    expect(second.kidsDropped).toEqual([first.kidPrevious]);
    expect(await kids()).toEqual([second.kidNew, first.kidNew]);
  });
});
