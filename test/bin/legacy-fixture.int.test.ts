import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { verifyChains } from '../../projections/audit-toolkit';
import {
  LEGACY_EVENTS_FILE_NAME,
  LEGACY_FIXTURE_DIR,
  materializeLegacyDataDir,
  readLegacyEvents,
} from '../support/legacy-fixture';

type Expected = { eventCount: number; schemaVersions: Record<string, number> };

const expected = JSON.parse(
  readFileSync(join(LEGACY_FIXTURE_DIR, 'expected.json'), 'utf8'),
) as Expected;

describe('legacy-v0 fixture (a data dir written by d701677)', () => {
  const madeDirs: string[] = [];
  const materialized = (): string => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-legacy-'));
    madeDirs.push(dataDir);
    materializeLegacyDataDir(dataDir);
    return dataDir;
  };
  afterAll(() => madeDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('lists every position once, in order', () => {
    const positions = readLegacyEvents().map((row) => row.position);
    expect(positions).toEqual(Array.from({ length: expected.eventCount }, (_, index) => index + 1));
  });

  it('materializes the old events table, schema version and WAL mode', () => {
    const dataDir = materialized();
    const db = new Database(join(dataDir, LEGACY_EVENTS_FILE_NAME), { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) AS count FROM events').get()).toEqual({
        count: expected.eventCount,
      });
      expect(db.prepare('SELECT component, version FROM schema_versions').all()).toEqual(
        Object.entries(expected.schemaVersions).map(([component, version]) => ({
          component,
          version,
        })),
      );
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it("passes the current code's chain verification once opened (and migrated) by it", async () => {
    const dataDir = materialized();
    const store = createSqliteEventStore({ path: join(dataDir, LEGACY_EVENTS_FILE_NAME) });
    try {
      await expect(verifyChains(store)).resolves.toMatchObject({
        eventCount: expected.eventCount,
        broken: null,
      });
    } finally {
      await store.close();
    }
  });
});
