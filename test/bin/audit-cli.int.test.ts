import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { auditBalances, exportLog, verifyChains, verifyStream } from '../../bin/audit-cli';
import { progressLine } from '../../bin/read-side-cli';
import { writeHistory } from '../projections/support/ledger-fixture';

describe("the auditor's toolkit on a real SQLite log", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-audit-'));
    path = join(dir, 'events.sqlite');
    const store = createSqliteEventStore({ path });
    await writeHistory(store);
    await store.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies an untouched log and finds Σ = 0 per currency', async () => {
    const store = createSqliteEventStore({ path });
    try {
      expect(await verifyChains(store)).toMatchObject({ broken: null, streamCount: 10 });
      expect(await auditBalances(store)).toMatchObject({ balanced: true, openTransferCount: 0 });
    } finally {
      await store.close();
    }
  });

  it('reports tampering with one stored event at the right stream and revision', async () => {
    const database = new Database(path);
    const target = database
      .prepare(
        "SELECT stream, revision FROM events WHERE stream = 'account-wallet-a' AND revision = 2",
      )
      .get() as { stream: string; revision: number };
    database
      .prepare(
        "UPDATE events SET data = json_set(data, '$.amountMinor', 1) WHERE stream = ? AND revision = ?",
      )
      .run(target.stream, target.revision);
    database.close();
    const store = createSqliteEventStore({ path });
    try {
      const report = await verifyChains(store);
      expect(report.broken).toMatchObject({ stream: 'account-wallet-a', revision: 2 });
      expect(report.broken?.hashExpected).not.toBe(report.broken?.hashFound);
      expect((await verifyStream(store, 'account-wallet-a', 1000)).broken).toMatchObject({
        revision: 2,
      });
      expect((await verifyStream(store, 'account-wallet-b', 1000)).broken).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('exports the log after a position, or one stream, as JSON lines', async () => {
    const store = createSqliteEventStore({ path });
    try {
      const lines: string[] = [];
      const all = await exportLog(
        store,
        { stream: null, afterPosition: 3n, pageEventCountMax: 2 },
        (line) => lines.push(line),
      );
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ position: '4' });
      expect(all).toBe(lines.length);
      const streamLines: string[] = [];
      await exportLog(
        store,
        { stream: 'transfer-t-3', afterPosition: null, pageEventCountMax: 2 },
        (line) => streamLines.push(line),
      );
      expect(streamLines.map((line) => JSON.parse(line).revision)).toEqual([0, 1, 2, 3]);
    } finally {
      await store.close();
    }
  });

  it('draws a progress bar from position over head', () => {
    expect(progressLine(50, 50n, 100n)).toBe(`[${'#'.repeat(15)}${'.'.repeat(15)}]  50% 50 events`);
    expect(progressLine(0, null, null)).toContain('100%');
  });
});
