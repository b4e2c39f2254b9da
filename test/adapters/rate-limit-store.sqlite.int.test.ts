import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { STORE_RETRY_AFTER_FAULT_MS } from '../../adapters/rate-limits/rate-limiter-counter';
import { createSqliteRateLimitStore } from '../../adapters/rate-limits/sqlite.rate-limit-store';
import {
  listenerInto,
  rateLimitStoreContract,
  type HeardFaults,
} from './rate-limit-store.contract';

const dir = mkdtempSync(join(tmpdir(), 'rate-limit-store-'));
const path = join(dir, 'rate-limits.sqlite');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

rateLimitStoreContract('sqlite', {
  open: (listener) =>
    Promise.resolve(createSqliteRateLimitStore({ path, listener, nowMs: Date.now })),
  shared: true,
});

describe('the SQLite rate-limit store', () => {
  it('answers from its insurance while another process holds the file locked, then goes back', async () => {
    const heard: HeardFaults = [];
    let nowMs = Date.parse('2026-01-01T00:00:00Z');
    const store = createSqliteRateLimitStore({
      path,
      listener: listenerInto(heard),
      nowMs: () => nowMs,
    });
    const counter = store.counter('locked', { requests: 100, windowS: 60 });
    await counter.consume('k');
    const holder = new Database(path);
    try {
      holder.exec('BEGIN IMMEDIATE'); // Another instance's write transaction that does not end.
      const startedMs = performance.now();
      expect((await counter.consume('k')).allowed).toBe(true); // Waited the busy timeout.
      expect(heard).toEqual(['fault:locked']);
      holder.exec('COMMIT');
      // Within the retry delay the store is not tried: no wait, still the insurance.
      const quickMs = performance.now();
      await counter.consume('k');
      expect(performance.now() - quickMs).toBeLessThan((quickMs - startedMs) / 2);
      expect(heard).toEqual(['fault:locked']);
      nowMs += STORE_RETRY_AFTER_FAULT_MS;
      await counter.consume('k');
      expect(heard).toEqual(['fault:locked', 'recovered:locked']);
      // The shared row holds the two requests the store answered, not the two insured ones.
      expect((await counter.peek('k'))?.consumed).toBe(2);
    } finally {
      holder.close();
      await store.close();
    }
  });
});
