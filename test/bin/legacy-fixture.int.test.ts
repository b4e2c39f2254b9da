import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { HASH_VERSION, sealEvents } from '../../domain/event-chain';
import { verifyChains } from '../../projections/audit-toolkit';
import {
  LEGACY_EVENTS_FILE_NAME,
  LEGACY_FIXTURE_DIR,
  materializeLegacyDataDir,
  readLegacyEvents,
} from '../support/legacy-fixture';

const LEDGER = join(__dirname, '../../dist/bin/ledger.js');
const run = promisify(execFile);

/** `ledger audit verify --json` on a data dir: its exit code and the stream it finds broken. */
const auditVerify = async (dataDir: string) => {
  const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  const args = [LEDGER, 'audit', 'verify', '--json'];
  const outcome = await run(process.execPath, args, { env }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
  );
  const report = JSON.parse(outcome.stdout) as {
    eventCount: number;
    broken: { stream: string; revision: number } | null;
  };
  return { code: outcome.code, report };
};

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

  it('verifies a log of old-version hashes continued by this build, and finds a new event tampered', async () => {
    const dataDir = materialized();
    const path = join(dataDir, LEGACY_EVENTS_FILE_NAME);
    const store = createSqliteEventStore({ path });
    const stream = 'account-eur-alice';
    try {
      // The old stream goes on with events sealed by this build (hash version 2).
      const [last] = await store.readStream(stream, {
        fromRevision: 'end',
        direction: 'backwards',
        eventCountMax: 1,
      });
      if (last === undefined) throw new Error(`${stream}: not in the fixture`);
      const metadata = { ...last.metadata, occurredAt: '2026-12-07T00:00:00.000Z' };
      const { hash: _oldHash, ...unhashedMetadata } = metadata;
      const tail = { nextRevision: last.revision + 1, lastHash: last.metadata.hash };
      const sealed = sealEvents(stream, tail, [
        {
          id: 'v2-note-1',
          type: 'NoteAdded',
          data: { note: 'a', items: [1, 2] },
          metadata: unhashedMetadata,
        },
        {
          id: 'v2-note-2',
          type: 'NoteAdded',
          data: { note: 'b', items: [] },
          metadata: unhashedMetadata,
        },
      ]);
      const expected = { kind: 'exact' as const, revision: last.revision };
      await expect(store.append(stream, sealed.events, expected)).resolves.toMatchObject({
        ok: true,
      });
    } finally {
      await store.close();
    }
    const db = new Database(path);
    try {
      const versions = db
        .prepare(
          "SELECT json_extract(metadata, '$.hashVersion') AS version FROM events WHERE stream = ? ORDER BY revision",
        )
        .pluck()
        .all(stream);
      expect(versions.slice(0, -2).every((version) => version === null)).toBe(true);
      expect(versions.slice(-2)).toEqual([HASH_VERSION, HASH_VERSION]);
    } finally {
      db.close();
    }
    await expect(auditVerify(dataDir)).resolves.toMatchObject({
      code: 0,
      report: { eventCount: expected.eventCount + 2, broken: null },
    });

    const tampered = new Database(path);
    let revision = -1;
    try {
      revision = Number(
        tampered.prepare('SELECT revision FROM events WHERE id = ?').pluck().get('v2-note-1'),
      );
      tampered
        .prepare(`UPDATE events SET data = json_set(data, '$.note', 'z') WHERE id = ?`)
        .run('v2-note-1');
    } finally {
      tampered.close();
    }
    await expect(auditVerify(dataDir)).resolves.toMatchObject({
      code: 1,
      report: { broken: { stream, revision } },
    });
  });
});
