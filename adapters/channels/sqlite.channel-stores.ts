import type { PaymentTicketStore, TicketRedemption } from '../../domain/ports/payment-ticket.port';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';
import { createWriteBatch } from '../sqlite/write-batch';

const SCHEMA_VERSION = 1;
// Replay keys were kept here, committed after the payment's own commit (a second fsync per
// callback); they now commit with the payment's events (event-store.replay-guard.ts). The old
// table held keys for six minutes only: it is dropped, and a version that still uses it
// recreates it (the schema version is unchanged).
const SCHEMA_SQL = `
  DROP TABLE IF EXISTS channel_callback_replay_keys;
  CREATE TABLE IF NOT EXISTS payment_status_tickets (
    ticket_hash TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS payment_status_tickets_by_expiry ON payment_status_tickets (expires_at_ms);
`;

const ensureChannelSchema = (database: SqliteDatabase): void =>
  ensureSchema(database, 'channels', SCHEMA_VERSION, (db) => db.exec(SCHEMA_SQL));

type TicketRow = { payment_id: string; expires_at_ms: number; used_at_ms: number | null };

/**
 * Status tickets by hash; redeem reads and marks the row in one transaction, so one use wins.
 * Writes go through the connection's write batch: the tickets of the payments created in one
 * event-loop turn share one commit (one fsync), where each payment creation used to hold the
 * API thread for a commit of its own.
 */
export const createSqlitePaymentTicketStore = (database: SqliteDatabase): PaymentTicketStore => {
  ensureChannelSchema(database);
  const insert = database.prepare<[string, string, number]>(
    'INSERT INTO payment_status_tickets (ticket_hash, payment_id, expires_at_ms) VALUES (?, ?, ?)',
  );
  const select = database.prepare<[string], TicketRow>(
    'SELECT payment_id, expires_at_ms, used_at_ms FROM payment_status_tickets WHERE ticket_hash = ?',
  );
  const markUsed = database.prepare<[number, string]>(
    'UPDATE payment_status_tickets SET used_at_ms = ? WHERE ticket_hash = ? AND used_at_ms IS NULL',
  );
  const purge = database.prepare<[number]>(
    'DELETE FROM payment_status_tickets WHERE expires_at_ms < ?',
  );
  const redeem = database.transaction(
    (ticketHash: string, paymentId: string, nowMs: number): TicketRedemption => {
      const row = select.get(ticketHash);
      if (row === undefined) return 'unknown';
      if (row.payment_id !== paymentId) return 'foreign';
      if (row.used_at_ms !== null) return 'used';
      if (row.expires_at_ms <= nowMs) return 'expired';
      return markUsed.run(nowMs, ticketHash).changes === 1 ? 'redeemed' : 'used';
    },
  );
  const batch = createWriteBatch(database);
  return {
    issue: (ticketHash, paymentId, expiresAtMs) =>
      batch.run(() => void insert.run(ticketHash, paymentId, expiresAtMs)),
    redeem: (ticketHash, paymentId, nowMs) => batch.run(() => redeem(ticketHash, paymentId, nowMs)),
    purgeExpired: (beforeMs) => batch.run(() => purge.run(beforeMs).changes),
  };
};
