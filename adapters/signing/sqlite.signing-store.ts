import type { SigningSettings, SigningStore } from '../../domain/ports/request-signing.port';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';

const SCHEMA_VERSION = 1;
const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS client_signing (
    client_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    required INTEGER NOT NULL,
    updated_at TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS signature_nonces (
    client_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (client_id, nonce)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS signature_nonces_expiry ON signature_nonces (expires_at_ms);
`;

type SettingsRow = { secret: string; required: number; updated_at: string };

/**
 * The SigningStore in two tables of a SQLite database (the service's file in DATA_DIR); the
 * caller owns and closes the database. A nonce is inserted in its own durable transaction
 * before the request goes on, so a restart cannot make it usable again.
 */
export const createSqliteSigningStore = (database: SqliteDatabase): SigningStore => {
  ensureSchema(database, 'client_signing', SCHEMA_VERSION, (db) => db.exec(SCHEMA_SQL));
  const select = database.prepare<[string], SettingsRow>(
    'SELECT secret, required, updated_at FROM client_signing WHERE client_id = ?',
  );
  const upsert = database.prepare<[string, string, number, string]>(
    'INSERT OR REPLACE INTO client_signing (client_id, secret, required, updated_at) VALUES (?, ?, ?, ?)',
  );
  const insertNonce = database.prepare<[string, string, number]>(
    'INSERT INTO signature_nonces (client_id, nonce, expires_at_ms) VALUES (?, ?, ?) ' +
      'ON CONFLICT (client_id, nonce) DO NOTHING',
  );
  const deleteExpired = database.prepare<[number]>(
    'DELETE FROM signature_nonces WHERE expires_at_ms < ?',
  );
  return {
    settingsOf: async (clientId) => {
      const row = select.get(clientId);
      if (row === undefined) return null;
      const settings: SigningSettings = {
        secret: row.secret,
        required: row.required === 1,
        updatedAt: row.updated_at,
      };
      return settings;
    },
    put: async (clientId, settings) => {
      upsert.run(clientId, settings.secret, settings.required ? 1 : 0, settings.updatedAt);
    },
    rememberNonce: async (clientId, nonce, expiresAtMs) =>
      insertNonce.run(clientId, nonce, expiresAtMs).changes === 1,
    purgeNonces: async (nowMs) => deleteExpired.run(nowMs).changes,
  };
};
