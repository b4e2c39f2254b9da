import type { CallbackReplayGuard } from '../../domain/ports/channel-callback.port';
import type { PaymentTicketStore, TicketRedemption } from '../../domain/ports/payment-ticket.port';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';

const SCHEMA_VERSION = 1;
const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS channel_callback_replay_keys (
    channel TEXT NOT NULL,
    replay_key TEXT NOT NULL,
    seen_at_ms INTEGER NOT NULL,
    PRIMARY KEY (channel, replay_key)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS channel_callback_replay_keys_by_age ON channel_callback_replay_keys (seen_at_ms);
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

type PendingKey = {
  channel: string;
  replayKey: string;
  nowMs: number;
  settle: (error: unknown) => void;
};

/**
 * Replay keys in the service's SQLite database (synchronous=FULL: a remembered key survives a
 * crash). Keys remembered in the same turn of the event loop are committed together, so that a
 * burst of callbacks costs one fsync rather than one each.
 */
export const createSqliteReplayGuard = (database: SqliteDatabase): CallbackReplayGuard => {
  ensureChannelSchema(database);
  const select = database.prepare<[string, string], { seen: number }>(
    'SELECT 1 AS seen FROM channel_callback_replay_keys WHERE channel = ? AND replay_key = ?',
  );
  const insert = database.prepare<[string, string, number]>(
    'INSERT OR IGNORE INTO channel_callback_replay_keys (channel, replay_key, seen_at_ms) VALUES (?, ?, ?)',
  );
  const purge = database.prepare<[number]>(
    'DELETE FROM channel_callback_replay_keys WHERE seen_at_ms < ?',
  );
  const insertAll = database.transaction((keys: readonly PendingKey[]) => {
    for (const key of keys) insert.run(key.channel, key.replayKey, key.nowMs);
  });
  let pending: PendingKey[] = [];
  const commit = (): void => {
    const batch = pending;
    pending = [];
    let failure: unknown = null;
    try {
      insertAll.immediate(batch);
    } catch (error: unknown) {
      failure = error;
    }
    for (const key of batch) key.settle(failure);
  };
  return {
    seen: async (channel, replayKey) => select.get(channel, replayKey) !== undefined,
    remember: (channel, replayKey, nowMs) =>
      new Promise<void>((resolve, reject) => {
        if (pending.length === 0) setImmediate(commit);
        pending.push({
          channel,
          replayKey,
          nowMs,
          settle: (error) => (error === null ? resolve() : reject(error)),
        });
      }),
    purgeOlderThan: async (beforeMs) => purge.run(beforeMs).changes,
  };
};

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
