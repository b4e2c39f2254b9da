import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';

describe('the SQLite event store probe write (readiness)', () => {
  it('commits one row of its own table, outside the log, and refuses after close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-probe-'));
    const path = join(dir, 'events.sqlite');
    try {
      const store = createSqliteEventStore({ path });
      await store.probeWrite();
      await store.probeWrite();
      expect(await store.headPosition()).toBeNull(); // No event: the log is untouched.
      await store.close();
      await expect(store.probeWrite()).rejects.toThrow('probe after close');
      const db = new Database(path, { readonly: true });
      try {
        expect(db.prepare('SELECT count(*) AS n FROM write_probe').get()).toEqual({ n: 1 });
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
