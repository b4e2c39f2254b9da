import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWechatV2Verifier } from '../../adapters/channels/wechat/wechat-v2.verifier';
import { createSqliteRateLimitStore } from '../../adapters/rate-limits/sqlite.rate-limit-store';
import { WECHAT_V2 } from '../adapters/channels/channel-fixtures';
import { createLedgerApp } from './support/ledger-app';
import { testGovernance } from './support/governance';
import { bearer, createTestApp, type TestApp } from './support/test-app';

const BURST_SIZE = 500;
const BURST_CONCURRENCY = 50;

/** Sends `count` requests, `BURST_CONCURRENCY` at a time; resolves with their responses. */
const burst = async <R>(count: number, send: (index: number) => Promise<R>): Promise<R[]> => {
  const responses: R[] = [];
  for (let start = 0; start < count; start += BURST_CONCURRENCY) {
    const size = Math.min(BURST_CONCURRENCY, count - start);
    responses.push(
      ...(await Promise.all(Array.from({ length: size }, (_, offset) => send(start + offset)))),
    );
  }
  return responses;
};

const statusCounts = (responses: readonly { status: number }[]): Record<number, number> => {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
};

describe('rate limits', () => {
  const getClient = (api: TestApp, apiKey: string) =>
    api.http().get('/v1/clients/merchant').set(bearer(apiKey));

  it("serves a burst of 500 with one key entirely without limits (the issue's finding)", async () => {
    const api = await createTestApp();
    const responses = await burst(BURST_SIZE, () => getClient(api, api.keys.admin));
    expect(statusCounts(responses)).toEqual({ 200: BURST_SIZE });
  });

  it('answers 429 rate_limited with Retry-After and RateLimit headers past the client limit', async () => {
    const governance = testGovernance({ limits: { client: { requests: 100, windowS: 60 } } });
    const api = await createTestApp({ governance });
    const responses = await burst(BURST_SIZE, () => getClient(api, api.keys.admin));
    expect(statusCounts(responses)).toEqual({ 200: 100, 429: 400 });
    const served = responses.find((response) => response.status === 200);
    expect(served?.headers['ratelimit-policy']).toBe('"client";q=100;w=60');
    expect(served?.headers['ratelimit']).toMatch(/^"client";r=\d+;t=\d+$/);
    const refused = responses.find((response) => response.status === 429);
    expect(refused?.body).toMatchObject({ code: 42940, data: { policy: 'client' } });
    const retryAfterS = Number(refused?.headers['retry-after']);
    expect(retryAfterS).toBeGreaterThanOrEqual(1);
    expect(retryAfterS).toBeLessThanOrEqual(60);
    expect(refused?.headers['ratelimit']).toBe(`"client";r=0;t=${retryAfterS}`);
    // Another client has its own budget; every refusal is a security event.
    expect((await getClient(api, api.keys.merchant)).status).toBe(403);
    expect(governance.events.filter((event) => event.kind === 'rate_limited')).toHaveLength(400);
    expect(governance.events[0]).toMatchObject({
      kind: 'rate_limited',
      clientId: 'admin',
      detail: { policy: 'client', path: '/v1/clients/merchant' },
    });
  });

  it('limits per source IP before authentication', async () => {
    const governance = testGovernance({ limits: { ip: { requests: 3, windowS: 60 } } });
    const api = await createTestApp({ governance });
    const statuses = [];
    for (let index = 0; index < 4; index += 1)
      statuses.push((await api.http().get('/v1/clients/merchant')).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(governance.events.at(-1)).toMatchObject({ kind: 'rate_limited', clientId: null });
  });

  it('limits transfers into one hot account, whoever sends them, and not other accounts', async () => {
    const governance = testGovernance({ limits: { hotKey: { requests: 3, windowS: 60 } } });
    const app = await createLedgerApp({ governance });
    for (const [accountId, key] of [
      ['hot', app.keys.merchant],
      ['cold', app.keys.merchant],
      ['m1', app.keys.merchant],
      ['m2', app.keys.merchant2],
    ] as const)
      expect((await app.post('/v1/accounts', { accountId, currency: 'EUR' }, key)).status).toBe(
        201,
      );
    const transfer = (index: number, from: string, to: string, key: string) =>
      app.post(
        '/v1/transfers',
        {
          transferId: `t-${index}`,
          debitAccountId: from,
          creditAccountId: to,
          amountMinor: 1,
          currency: 'EUR',
        },
        key,
      );
    const statuses = [
      (await transfer(1, 'm1', 'hot', app.keys.merchant)).status,
      (await transfer(2, 'm2', 'hot', app.keys.merchant2)).status,
      (await transfer(3, 'm1', 'hot', app.keys.merchant)).status,
      (await transfer(4, 'm2', 'hot', app.keys.merchant2)).status,
      (await transfer(5, 'm1', 'cold', app.keys.merchant)).status,
    ];
    expect(statuses).toEqual([201, 201, 201, 429, 201]);
    expect(governance.events).toEqual([
      expect.objectContaining({
        kind: 'rate_limited',
        clientId: 'merchant2',
        detail: expect.objectContaining({ policy: 'hot_key', resource: 'account', key: 'hot' }),
      }),
    ]);
  });

  it('keeps limiting, never answering 500 or 503, when the shared limiter store fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rate-limit-fault-'));
    const faults: string[] = [];
    const store = createSqliteRateLimitStore({
      path: join(dir, 'rate-limits.sqlite'),
      listener: { onFault: (counter) => void faults.push(counter), onRecovered: () => undefined },
      nowMs: Date.now,
    });
    try {
      const governance = testGovernance({
        limits: { client: { requests: 3, windowS: 60 }, ip: { requests: 1000, windowS: 60 } },
        store,
      });
      const api = await createTestApp({ governance });
      expect((await getClient(api, api.keys.admin)).status).toBe(200);
      await store.close(); // The limiter file is gone under the running app.
      const statuses = [];
      for (let request = 0; request < 4; request += 1)
        statuses.push((await getClient(api, api.keys.admin)).status);
      // The in-memory insurance counts from zero on this instance: 3 allowed, then 429.
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(faults).toEqual(['ip', 'client']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('throttles failed authentications per IP: past the limit even a correct key gets 429', async () => {
    const governance = testGovernance({ limits: { authFailures: { requests: 3, windowS: 60 } } });
    const api = await createTestApp({ governance });
    for (let attempt = 0; attempt < 3; attempt += 1)
      expect((await getClient(api, `lsk_wrong-${attempt}`)).status).toBe(401);
    const correct = await getClient(api, api.keys.admin);
    expect(correct.status).toBe(429);
    expect(correct.body.code).toBe(42941);
    expect(Number(correct.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // One path: authenticate's failures and the limiter's refusal reach the same security port.
    expect(governance.events.map((event) => event.kind)).toEqual([
      'authentication_failed',
      'authentication_failed',
      'authentication_failed',
      'auth_throttled',
    ]);
    expect(governance.events.at(-1)).toMatchObject({
      clientId: null,
      ip: expect.any(String),
      requestId: expect.any(String),
      detail: { method: 'GET', retryAfterS: expect.any(Number) },
    });
  });

  it('lets a correct key through after failures below the limit (control)', async () => {
    const governance = testGovernance({ limits: { authFailures: { requests: 3, windowS: 60 } } });
    const api = await createTestApp({ governance });
    for (let attempt = 0; attempt < 2; attempt += 1)
      expect((await getClient(api, `lsk_wrong-${attempt}`)).status).toBe(401);
    expect((await getClient(api, api.keys.admin)).status).toBe(200);
  });

  it("limits channel callbacks per channel and IP, answering in the channel's format", async () => {
    const governance = testGovernance({ limits: { callback: { requests: 2, windowS: 60 } } });
    const app = await createLedgerApp({
      governance,
      verifiers: [createWechatV2Verifier(WECHAT_V2)],
    });
    const deliver = () =>
      app
        .http()
        .post('/v1/channels/wechat/callbacks')
        .set('Content-Type', 'text/xml')
        .send('<xml><return_code>FAIL</return_code></xml>');
    const refusedBySignature = await deliver();
    expect(refusedBySignature.status).toBe(400);
    expect((await deliver()).status).toBe(400);
    const limited = await deliver();
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.text).toContain('<return_code><![CDATA[FAIL]]></return_code>');
    expect(governance.events.at(-1)).toMatchObject({
      kind: 'rate_limited',
      detail: expect.objectContaining({ policy: 'callback', channel: 'wechat' }),
    });
  });
});
