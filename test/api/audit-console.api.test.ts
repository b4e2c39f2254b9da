import { generateKeyPairSync } from 'node:crypto';
import { openSignedCheckpointStore } from '../../adapters/audit/sqlite.signed-checkpoint-store';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { auditCheckpointRoutes } from '../../api/routes/audit-checkpoints.route';
import { CHECKPOINT_STREAM } from '../../domain/audit/checkpoint-events';
import { keyIdOf } from '../../domain/audit/log-checkpoint';
import { ledgerSummary } from '../../projections/ledger-summary';
import { writeCheckpoint } from '../../projections/log-checkpoints';
import { verifyLog } from '../../bin/audit-checkpoint-cli';
import { writeHistory } from '../projections/support/ledger-fixture';
import { bearer, createTestApp, type TestApp } from './support/test-app';

/** What the auditor console reads: totals and volume, checkpoints, streams and their events. */
describe('the auditor console API', () => {
  const store = createSqliteEventStore({ path: ':memory:' });
  const log = openSignedCheckpointStore(openSqliteDatabase(':memory:'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer = { keyId: keyIdOf(publicKey), privateKey };
  let api: TestApp;
  const get = (path: string, key: string) => api.http().get(path).set(bearer(key));

  beforeAll(async () => {
    await writeHistory(store);
    await writeCheckpoint(store, log, signer, { now: () => new Date(), force: false });
    api = await createTestApp({
      nowMs: () => Date.parse('2026-11-30T12:00:00Z'),
      routes: [
        auditCheckpointRoutes({
          verify: () => verifyLog(store, log.all(), new Map([[signer.keyId, publicKey]])),
          latestCheckpoint: () => log.latest(),
          streamHeads: (query) => log.streamHeads(query),
          eventStore: store,
          summary: (options) => ledgerSummary(store, options),
        }),
      ],
    });
  });
  afterAll(() => store.close());

  it('answers auditors and admins only', async () => {
    expect((await get('/v1/audit/summary', api.keys.merchant)).status).toBe(403);
    expect((await get('/v1/audit/streams', api.keys.merchant)).status).toBe(403);
    expect((await get('/v1/audit/summary', api.keys.admin)).status).toBe(200);
  });

  it('shows the totals per currency with Σ = 0 and the daily volume', async () => {
    const response = await get('/v1/audit/summary?days=30', api.keys.auditor);
    expect(response.status).toBe(200);
    const { currencies, balanced, dailyVolume } = response.body.data;
    expect(balanced).toBe(true);
    expect(currencies).toEqual([
      expect.objectContaining({ currency: 'EUR', accountCount: 3, netMinor: '0' }),
    ]);
    expect(dailyVolume.length).toBeGreaterThan(0);
    const total = (dailyVolume as { amountMinor: string }[]).reduce(
      (sum, day) => sum + BigInt(day.amountMinor),
      0n,
    );
    expect(total).toBeGreaterThan(0n);
    const bad = await get('/v1/audit/summary?days=0', api.keys.auditor);
    expect(bad.status).toBe(400);
    expect(bad.body.msg).toMatch(/days/);
  });

  it('lists the streams the latest checkpoint signed, by category and page', async () => {
    const first = await get('/v1/audit/streams?category=account&page_size=2', api.keys.auditor);
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ total_count: 3, total_page: 2, page_num: 1 });
    const second = await get(
      '/v1/audit/streams?category=account&page_size=2&page_num=2',
      api.keys.auditor,
    );
    const names = [...first.body.data.items, ...second.body.data.items].map(
      (head: { stream: string }) => head.stream,
    );
    expect(names).toEqual(['account-clearing', 'account-wallet-a', 'account-wallet-b']);
    expect((await get('/v1/audit/streams?page_size=101', api.keys.auditor)).status).toBe(400);
  });

  it("pages a stream's events with their hashes, each linked to the one before", async () => {
    const page1 = await get(
      '/v1/audit/streams/account-wallet-a/events?page_size=2',
      api.keys.auditor,
    );
    const page2 = await get(
      '/v1/audit/streams/account-wallet-a/events?page_size=2&page_num=2',
      api.keys.auditor,
    );
    expect(page1.status).toBe(200);
    const [first, second] = page1.body.data.items;
    expect(first).toMatchObject({ revision: 0, previousHash: null });
    expect(second.previousHash).toBe(first.hash);
    expect(page2.body.data.items[0]).toMatchObject({ revision: 2, previousHash: second.hash });
    expect(page1.body.data.total_count).toBeGreaterThan(2);
    const missing = await get('/v1/audit/streams/account-nobody/events', api.keys.auditor);
    expect(missing.status).toBe(404);
    expect(missing.body.msg).toBe('no such stream');
  });

  it('shows the latest checkpoint, its copy in the log, and the last verification', async () => {
    const latest = await get('/v1/audit/checkpoints/latest', api.keys.auditor);
    expect(latest.body.data.checkpoint).toMatchObject({ body: { sequence: 1 } });
    const copies = await get(`/v1/audit/streams/${CHECKPOINT_STREAM}/events`, api.keys.auditor);
    expect(copies.body.data.items[0].data).toMatchObject({
      hash: latest.body.data.checkpoint.hash,
    });
    const before = await get('/v1/audit/checkpoints/verify/last', api.keys.auditor);
    expect(before.body.data).toEqual({ verification: null });
    const verified = await get('/v1/audit/checkpoints/verify', api.keys.auditor);
    expect(verified.body.data).toMatchObject({ ok: true, inLogCheckpointCount: 1 });
    const after = await get('/v1/audit/checkpoints/verify/last', api.keys.auditor);
    expect(after.body.data.verification).toMatchObject({
      verifiedAt: '2026-11-30T12:00:00.000Z',
      report: { ok: true },
    });
  });
});
