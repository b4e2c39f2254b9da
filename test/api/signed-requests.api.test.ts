import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteSigningStore } from '../../adapters/signing/sqlite.signing-store';
import { openSqliteDatabase, type SqliteDatabase } from '../../adapters/sqlite/open-database';
import { signRequest, stringToSign } from '../../api/request-signature';
import { testGovernance } from './support/governance';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';
import { bearer } from './support/test-app';

const EXAMPLE = {
  secret: 'lss_docs_example_secret_not_for_use_0123456789',
  parts: {
    method: 'POST',
    path: '/v1/accounts',
    query: '',
    timestampS: '1767225600',
    nonce: '4f1c2a9e7b3d4c5e8a6b',
    body: Buffer.from('{"accountId":"acc-1","currency":"EUR"}'),
  },
  signature: '8c45a5ff86c5b516c450c7993cd7efe2aea5cceb642d28edaf9e63843a5f407e',
};

const apiDoc = (): string => readFileSync(join(__dirname, '../../docs/api.md'), 'utf8');

describe('the documented signing example', () => {
  it('computes the signature printed in docs/api.md', () => {
    expect(signRequest(EXAMPLE.secret, EXAMPLE.parts)).toBe(EXAMPLE.signature);
    const doc = apiDoc();
    expect(doc).toContain(`X-Signature: v1=${EXAMPLE.signature}`);
    expect(doc).toContain(
      `string to sign: \`${stringToSign(EXAMPLE.parts).replaceAll('\n', '\\n')}\``,
    );
  });

  it('is reproduced by the shell lines in docs/api.md (openssl)', () => {
    const doc = apiDoc();
    const block = doc
      .split('<!-- signing-example:start -->')[1]
      ?.split('<!-- signing-example:end -->')[0];
    const script = block?.replace(/^\s*```sh\n/, '').replace(/```\s*$/, '') ?? '';
    expect(script).toContain('openssl dgst -sha256 -hmac');
    expect(execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim()).toBe(
      EXAMPLE.signature,
    );
  });

  it('sorts the query parameters by byte order, as sent', () => {
    const parts = { ...EXAMPLE.parts, query: 'page_size=20&account_id=a1&B=%2F' };
    expect(stringToSign(parts).split('\n')[3]).toBe('B=%2F&account_id=a1&page_size=20');
  });
});

describe('signed requests over HTTP', () => {
  let dir: string;
  let database: SqliteDatabase;
  let nowMs: number;
  let app: LedgerApp;
  let governance: ReturnType<typeof testGovernance>;
  let nonceCount = 0;

  const start = async (): Promise<LedgerApp> => {
    database = openSqliteDatabase(join(dir, 'service.sqlite'));
    governance = testGovernance({
      signing: createSqliteSigningStore(database),
      limits: { authFailures: { requests: 5, windowS: 60 } },
    });
    return createLedgerApp({ governance, nowMs: () => nowMs });
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-signing-'));
    nowMs = Date.parse('2026-01-01T00:00:00Z');
    app = await start();
  });
  afterEach(() => {
    database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const setSecret = async (required: boolean): Promise<string> => {
    const response = await app
      .http()
      .post('/v1/clients/merchant/signing-secret')
      .set(bearer(app.keys.admin))
      .send({ required });
    expect(response.status).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    return response.body.data.signingSecret as string;
  };

  const freshNonce = (): string => {
    nonceCount += 1;
    return `nonce-${String(nonceCount).padStart(12, '0')}`;
  };

  /** A signed GET /v1/accounts/{id}?..., with the parts overridable to forge a bad one. */
  const signedGet = (
    secret: string,
    options: { nonce?: string; timestampS?: number; sentQuery?: string } = {},
  ) => {
    const nonce = options.nonce ?? freshNonce();
    const timestampS = String(options.timestampS ?? Math.floor(nowMs / 1000));
    const path = '/v1/accounts/acc-1';
    const query = 'b=2&a=1';
    const signature = signRequest(secret, {
      method: 'GET',
      path,
      query,
      timestampS,
      nonce,
      body: Buffer.alloc(0),
    });
    return app
      .http()
      .get(`${path}?${options.sentQuery ?? query}`)
      .set(bearer(app.keys.merchant))
      .set('X-Signature-Timestamp', timestampS)
      .set('X-Signature-Nonce', nonce)
      .set('X-Signature', `v1=${signature}`);
  };

  it('refuses an unsigned request once signing is required, and serves a signed one', async () => {
    expect((await app.get('/v1/accounts/acc-1', app.keys.merchant)).status).toBe(404);
    const secret = await setSecret(true);
    const unsigned = await app.get('/v1/accounts/acc-1', app.keys.merchant);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.code).toBe(40140);
    expect((await signedGet(secret)).status).toBe(404); // Past the check: no such account.
    // Other clients are not affected.
    expect((await app.get('/v1/accounts/acc-1', app.keys.merchant2)).status).toBe(404);
    expect(governance.events.map((event) => event.kind)).toEqual([
      'signing_secret_set',
      'signature_refused',
    ]);
    expect(JSON.stringify(governance.events)).not.toContain(secret);
  });

  it('checks a signed body: the same body passes, a changed one is signature_invalid', async () => {
    const secret = await setSecret(false);
    const body = '{"accountId":"acc-1","currency":"EUR"}';
    const send = (sentBody: string, nonce: string) => {
      const timestampS = String(Math.floor(nowMs / 1000));
      const signature = signRequest(secret, {
        method: 'POST',
        path: '/v1/accounts',
        query: '',
        timestampS,
        nonce,
        body: Buffer.from(body),
      });
      return app
        .http()
        .post('/v1/accounts')
        .set(bearer(app.keys.merchant))
        .set('Idempotency-Key', nonce)
        .set('Content-Type', 'application/json')
        .set('X-Signature-Timestamp', timestampS)
        .set('X-Signature-Nonce', nonce)
        .set('X-Signature', `v1=${signature}`)
        .send(sentBody);
    };
    const tampered = await send(body.replace('EUR', 'USD'), freshNonce());
    expect(tampered.status).toBe(401);
    expect(tampered.body.code).toBe(40141);
    expect((await send(body, freshNonce())).status).toBe(201);
  });

  it('refuses a changed query, a wrong secret, and a timestamp outside 300 s', async () => {
    const secret = await setSecret(false);
    expect((await signedGet(secret, { sentQuery: 'b=3&a=1' })).body.code).toBe(40141);
    expect((await signedGet(`${secret}x`)).body.code).toBe(40141);
    const nowS = Math.floor(nowMs / 1000);
    expect((await signedGet(secret, { timestampS: nowS - 301 })).body.code).toBe(40142);
    expect((await signedGet(secret, { timestampS: nowS + 301 })).body.code).toBe(40142);
    expect((await signedGet(secret, { timestampS: nowS - 300 })).status).toBe(404);
    // Reordered query parameters sign the same.
    expect((await signedGet(secret, { sentQuery: 'a=1&b=2' })).status).toBe(404);
  });

  it('refuses a nonce seen within the window, also after a restart', async () => {
    const secret = await setSecret(false);
    const nonce = freshNonce();
    expect((await signedGet(secret, { nonce })).status).toBe(404);
    const replayed = await signedGet(secret, { nonce });
    expect(replayed.status).toBe(401);
    expect(replayed.body.code).toBe(40143);
    database.close();
    app = await start(); // A new process on the same DATA_DIR file.
    expect((await signedGet(secret, { nonce })).body.code).toBe(40143);
    expect((await signedGet(secret)).status).toBe(404);
  });

  it('counts refused signatures against the client id: past the limit even a good one is 429', async () => {
    const secret = await setSecret(false);
    for (let attempt = 0; attempt < 5; attempt += 1)
      expect((await signedGet(`${secret}-wrong`)).status).toBe(401);
    const good = await signedGet(secret);
    expect(good.status).toBe(429);
    expect(good.body.code).toBe(42941);
  });

  it('forgets nonces once their window has passed (purge)', async () => {
    const store = governance.signing;
    expect(await store.rememberNonce('c', 'n-aaaaaaaaaaaaaaaa', 1000)).toBe(true);
    expect(await store.rememberNonce('c', 'n-aaaaaaaaaaaaaaaa', 1000)).toBe(false);
    expect(await store.rememberNonce('c', 'n-bbbbbbbbbbbbbbbb', 5000)).toBe(true);
    expect(await store.purgeNonces(2000)).toBe(1);
    expect(await store.rememberNonce('c', 'n-aaaaaaaaaaaaaaaa', 9000)).toBe(true);
    expect(await store.rememberNonce('c', 'n-bbbbbbbbbbbbbbbb', 9000)).toBe(false);
  });
});
