import { createSqliteSecurityEventStore } from '../../adapters/security/sqlite.security-event-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { createSecurityRecorder } from '../../api/security/security-recorder';
import { bearer, createTestApp, type TestApp } from './support/test-app';

const input = { clientId: null, ip: '10.0.0.1', requestId: null } as const;

describe('the security audit trail', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await createTestApp();
  });
  const page = (query: string, key = app.keys.auditor) =>
    app.http().get(`/v1/security-events${query}`).set(bearer(key));

  it('coalesces a flood of failed authentications into one row per flush window', async () => {
    for (let attempt = 0; attempt < 50; attempt += 1)
      await app.http().get('/v1/security-events').set(bearer('lsk_wrong-key'));
    await app.securityEvents.recorder.flush();
    const response = await page('?kind=authentication_failed');
    expect(response.status).toBe(200);
    const rows = response.body.data.events as Array<{ count: number; detail: unknown }>;
    // One row per second of flood at most (the flush interval), counting every attempt.
    expect(rows.length).toBeLessThan(10);
    expect(rows.reduce((sum, row) => sum + row.count, 0)).toBe(50);
    for (const row of rows)
      expect(row.detail).toEqual({ reason: 'unknown_credential', path: '/v1/security-events' });
  });

  it('pages with after and filters by kind and time', async () => {
    const { recorder } = app.securityEvents;
    for (let n = 0; n < 5; n += 1)
      recorder.record({ ...input, kind: 'token_issued', detail: { n } });
    recorder.record({ ...input, kind: 'key_rotated', detail: {} });
    await recorder.flush();
    const first = await page('?kind=token_issued&page_size=2');
    expect(
      first.body.data.events.map((event: { detail: { n: number } }) => event.detail.n),
    ).toEqual([0, 1]);
    const next = await page(`?kind=token_issued&page_size=2&after=${first.body.data.nextAfter}`);
    expect(next.body.data.events.map((event: { detail: { n: number } }) => event.detail.n)).toEqual(
      [2, 3],
    );
    const all = await page('?page_size=100'); // With the key generated at start.
    expect(all.body.data.events).toHaveLength(7);
    expect(all.body.data.nextAfter).toBeNull();
    expect((await page('?to=2000-01-01T00:00:00Z')).body.data.events).toEqual([]);
    expect((await page('?from=2000-01-01T00:00:00%2B02:00')).body.data.events).toHaveLength(7);
  });

  it('is for auditors (audit:read) only, and names a bad filter', async () => {
    const refused = await page('', app.keys.merchant);
    expect(refused.status).toBe(403);
    expect(refused.body.data).toEqual({ scope: 'audit:read' });
    const bad = await page('?kind=everything');
    expect(bad.status).toBe(400);
    expect(bad.body.msg).toContain('kind');
  });
});

describe('the security event recorder and store', () => {
  const open = () => createSqliteSecurityEventStore(openSqliteDatabase(':memory:'));
  const all = { kind: null, fromIso: null, toIso: null, afterSequence: 0, countMax: 1000 };

  it('keeps at most pendingCountMax distinct events per window and reports the rest', async () => {
    const store = open();
    const problems: unknown[] = [];
    const recorder = createSecurityRecorder({
      store,
      nowMs: Date.now,
      flushIntervalMs: 60_000,
      pendingCountMax: 3,
      onProblem: (name, detail) => problems.push({ name, detail }),
    });
    for (let n = 0; n < 5; n += 1)
      recorder.record({ ...input, kind: 'token_issued', detail: { n } });
    await recorder.stop();
    expect(await store.list(all)).toHaveLength(3);
    expect(problems).toEqual([{ name: 'security_events_dropped', detail: { count: 2 } }]);
  });

  it('prunes events older than the retention', async () => {
    const store = open();
    const event = { ...input, kind: 'key_rotated' as const, detail: {}, count: 1 };
    await store.append([
      { ...event, occurredAt: '2024-01-01T00:00:00.000Z' },
      { ...event, occurredAt: '2026-01-01T00:00:00.000Z' },
    ]);
    expect(await store.pruneOlderThan('2025-01-01T00:00:00.000Z')).toBe(1);
    expect((await store.list(all)).map((kept) => kept.occurredAt)).toEqual([
      '2026-01-01T00:00:00.000Z',
    ]);
  });
});
