import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The event log written by ledger-service d701677 (test/fixtures/legacy-v0/README.md), rebuilt
 * as that version left it: its file name, its DDL copied verbatim from its
 * adapters/eventstore/sqlite/event-table.ts and adapters/sqlite/open-database.ts, its
 * schema_versions row, WAL mode. Opening the result runs the current code's migration path.
 */
export const LEGACY_FIXTURE_DIR = join(__dirname, '../fixtures/legacy-v0');
export const LEGACY_EVENTS_FILE_NAME = 'events.sqlite';
const LEGACY_SCHEMA_COMPONENT = 'event_store';
const LEGACY_SCHEMA_VERSION = 1;

const LEGACY_SCHEMA_VERSIONS_DDL =
  'CREATE TABLE IF NOT EXISTS schema_versions ' +
  '(component TEXT PRIMARY KEY, version INTEGER NOT NULL)';

const LEGACY_EVENTS_DDL = `
    CREATE TABLE IF NOT EXISTS events (
      position INTEGER PRIMARY KEY AUTOINCREMENT,
      stream TEXT NOT NULL,
      revision INTEGER NOT NULL,
      id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL,
      data TEXT NOT NULL,
      metadata TEXT NOT NULL,
      UNIQUE (stream, revision)
    ) STRICT;
  `;

/** One row of the old events table; data and metadata are its TEXT columns, parsed. */
type LegacyEventRow = {
  position: number;
  stream: string;
  revision: number;
  id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const parseRow = (line: string, lineNumber: number): LegacyEventRow => {
  const row: unknown = JSON.parse(line);
  if (
    !isObject(row) ||
    !Number.isSafeInteger(row['position']) ||
    typeof row['stream'] !== 'string' ||
    !Number.isSafeInteger(row['revision']) ||
    typeof row['id'] !== 'string' ||
    typeof row['type'] !== 'string' ||
    !isObject(row['data']) ||
    !isObject(row['metadata'])
  ) {
    throw new Error(`events.jsonl line ${lineNumber}: not an events row`);
  }
  return row as LegacyEventRow;
};

/** Every row of events.jsonl, in position order. */
export const readLegacyEvents = (): LegacyEventRow[] =>
  readFileSync(join(LEGACY_FIXTURE_DIR, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line, index) => parseRow(line, index + 1));

/**
 * Writes `events.sqlite` into targetDir (created if missing). JSON.stringify of the parsed
 * columns gives back the stored text byte for byte (checked when the fixture was exported), so
 * every hash chain still verifies.
 */
export const materializeLegacyDataDir = (targetDir: string): void => {
  mkdirSync(targetDir, { recursive: true });
  const db = new Database(join(targetDir, LEGACY_EVENTS_FILE_NAME));
  try {
    db.pragma('journal_mode = WAL');
    db.transaction(() => {
      db.exec(LEGACY_SCHEMA_VERSIONS_DDL);
      db.exec(LEGACY_EVENTS_DDL);
      db.prepare('INSERT INTO schema_versions (component, version) VALUES (?, ?)').run(
        LEGACY_SCHEMA_COMPONENT,
        LEGACY_SCHEMA_VERSION,
      );
      const insert = db.prepare(
        'INSERT INTO events (position, stream, revision, id, type, data, metadata) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const row of readLegacyEvents()) {
        const data = JSON.stringify(row.data);
        const metadata = JSON.stringify(row.metadata);
        insert.run(row.position, row.stream, row.revision, row.id, row.type, data, metadata);
      }
    })();
  } finally {
    db.close();
  }
};
