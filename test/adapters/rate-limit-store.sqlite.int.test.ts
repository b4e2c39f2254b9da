import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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
  open: (listener) => Promise.resolve(createSqliteRateLimitStore({ path, listener })),
  shared: true,
});

describe('the SQLite rate-limit store', () => {
  it('answers from its insurance while another process holds the file locked, then goes back', async () => {
    const heard: HeardFaults = [];
    const store = createSqliteRateLimitStore({ path, listener: listenerInto(heard) });
    const counter = store.counter('locked', { requests: 100, windowS: 60 });
    await counter.consume('k');
    const holder = new Database(path);
    try {
      holder.exec('BEGIN IMMEDIATE'); // Another instance's write transaction that does not end.
      const verdict = await counter.consume('k');
      expect(verdict.allowed).toBe(true);
      expect(heard).toEqual(['fault:locked']);
      holder.exec('COMMIT');
      await counter.consume('k');
      expect(heard).toEqual(['fault:locked', 'recovered:locked']);
      // The shared row holds the two requests the store answered, not the insured one.
      expect((await counter.peek('k'))?.consumed).toBe(2);
    } finally {
      holder.close();
      await store.close();
    }
  });
});
