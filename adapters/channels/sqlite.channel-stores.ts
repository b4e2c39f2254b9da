import type { PaymentTicketStore, TicketRedemption } from '../../domain/ports/payment-ticket.port';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';

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

/** Status tickets by hash; redeem marks the row used in one IMMEDIATE transaction, so one use wins. */
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
  return {
    issue: async (ticketHash, paymentId, expiresAtMs) => {
      insert.run(ticketHash, paymentId, expiresAtMs);
    },
    redeem: async (ticketHash, paymentId, nowMs) => redeem.immediate(ticketHash, paymentId, nowMs),
    purgeExpired: async (beforeMs) => purge.run(beforeMs).changes,
  };
};
