import { assert } from '../../domain/assert';
import type { JsonObject } from '../../domain/ports/event-store.port';
import {
  SECURITY_EVENT_KINDS,
  type SecurityEventKind,
  type SecurityEventStore,
  type StoredSecurityEvent,
} from '../../domain/ports/security-event.port';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';
import { sqliteGuarded } from '../sqlite/outage';

type EventRow = {
  sequence: number;
  kind: string;
  occurred_at: string;
  client_id: string | null;
  ip: string | null;
  request_id: string | null;
  detail: string;
  count: number;
};

const SCHEMA_VERSION = 1;
const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS security_events (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    client_id TEXT,
    ip TEXT,
    request_id TEXT,
    detail TEXT NOT NULL,
    count INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS security_events_by_time ON security_events (occurred_at);
  CREATE INDEX IF NOT EXISTS security_events_by_kind ON security_events (kind, sequence);
`;

/**
 * The security audit trail in a table of a SQLite database the caller owns (service.sqlite, never
 * the event log). Sequence numbers only grow (AUTOINCREMENT), so `after` pages stay stable while
 * old rows are pruned.
 */
export const createSqliteSecurityEventStore = (database: SqliteDatabase): SecurityEventStore => {
  ensureSchema(database, 'security_events', SCHEMA_VERSION, (db) => db.exec(SCHEMA_SQL));
  const insert = database.prepare(
    `INSERT INTO security_events (kind, occurred_at, client_id, ip, request_id, detail, count)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const select = database.prepare<
    { kind: string | null; from: string | null; to: string | null; after: number; limit: number },
    EventRow
  >(
    `SELECT * FROM security_events
     WHERE sequence > @after AND (@kind IS NULL OR kind = @kind)
       AND (@from IS NULL OR occurred_at >= @from) AND (@to IS NULL OR occurred_at < @to)
     ORDER BY sequence LIMIT @limit`,
  );
  const prune = database.prepare<[string]>('DELETE FROM security_events WHERE occurred_at < ?');
  const appendAll = database.transaction((events: Parameters<SecurityEventStore['append']>[0]) => {
    for (const event of events) {
      insert.run(
        event.kind,
        event.occurredAt,
        event.clientId,
        event.ip,
        event.requestId,
        JSON.stringify(event.detail),
        event.count,
      );
    }
  });
  return {
    append: async (events) => {
      sqliteGuarded('security event store', () => appendAll.immediate(events));
    },
    list: async (query) =>
      sqliteGuarded('security event store', () =>
        select.all({
          kind: query.kind,
          from: query.fromIso,
          to: query.toIso,
          after: query.afterSequence,
          limit: query.countMax,
        }),
      ).map(toEvent),
    pruneOlderThan: async (beforeIso) =>
      sqliteGuarded('security event store', () => prune.run(beforeIso).changes),
  };
};

const isKind = (kind: string): kind is SecurityEventKind =>
  SECURITY_EVENT_KINDS.some((known) => known === kind);

const toEvent = (row: EventRow): StoredSecurityEvent => {
  const { kind } = row;
  assert(isKind(kind), `security_events holds unknown kind '${kind}'`);
  return {
    sequence: row.sequence,
    kind,
    occurredAt: row.occurred_at,
    clientId: row.client_id,
    ip: row.ip,
    requestId: row.request_id,
    detail: JSON.parse(row.detail) as JsonObject,
    count: row.count,
  };
};
