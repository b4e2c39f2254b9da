import { assert } from '../../domain/assert';
import { isMode } from '../../domain/mode/mode';
import { CLIENT_ROLES } from '../../domain/ports/client-store.port';
import type { Client, ClientRole, ClientStore } from '../../domain/ports/client-store.port';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';

type ClientRow = {
  client_id: string;
  role: string;
  mode: string;
  key_hash: string;
  created_at: string;
  revoked_at: string | null;
};

type ClientParams = [string, string, string, string, string, string | null];

// Version 2 adds the OAuth client secret's hash beside the API key's; version 3 the client's
// mode, 'live' for the clients made before modes (they kept reaching live channels and objects).
const SCHEMA_VERSION = 3;
const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT 'live',
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    secret_hash TEXT
  ) WITHOUT ROWID;
`;
const MIGRATE_TO_2_SQL = 'ALTER TABLE clients ADD COLUMN secret_hash TEXT';
const MIGRATE_TO_3_SQL = "ALTER TABLE clients ADD COLUMN mode TEXT NOT NULL DEFAULT 'live'";

const COLUMNS = 'client_id, role, mode, key_hash, created_at, revoked_at';

/**
 * The ClientStore in a table of a SQLite database opened by openSqliteDatabase; the caller owns
 * and closes the database. Key hashes are unique and indexed.
 */
export const createSqliteClientStore = (database: SqliteDatabase): ClientStore => {
  ensureSchema(database, 'clients', SCHEMA_VERSION, (db, versionFound) => {
    db.exec(SCHEMA_SQL);
    if (versionFound === 1) db.exec(MIGRATE_TO_2_SQL);
    if (versionFound === 1 || versionFound === 2) db.exec(MIGRATE_TO_3_SQL);
  });
  const insert = database.prepare<ClientParams>(
    `INSERT INTO clients (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (client_id) DO NOTHING`,
  );
  const upsert = database.prepare<ClientParams>(
    // An upsert, not INSERT OR REPLACE: a replaced API key keeps the client's OAuth secret.
    `INSERT INTO clients (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET
       role = excluded.role, mode = excluded.mode, key_hash = excluded.key_hash, created_at = excluded.created_at,
       revoked_at = excluded.revoked_at`,
  );
  const byId = database.prepare<[string], ClientRow>(
    `SELECT ${COLUMNS} FROM clients WHERE client_id = ?`,
  );
  const byKeyHash = database.prepare<[string], ClientRow>(
    `SELECT ${COLUMNS} FROM clients WHERE key_hash = ?`,
  );
  const markRevoked = database.prepare<[string, string]>(
    'UPDATE clients SET revoked_at = coalesce(revoked_at, ?) WHERE client_id = ?',
  );
  const setSecret = database.prepare<[string, string]>(
    'UPDATE clients SET secret_hash = ? WHERE client_id = ?',
  );
  const secretById = database.prepare<[string], { secret_hash: string | null }>(
    'SELECT secret_hash FROM clients WHERE client_id = ?',
  );
  const params = (client: Client): ClientParams => [
    client.clientId,
    client.role,
    client.mode,
    client.keyHash,
    client.createdAt,
    client.revokedAt,
  ];
  const find = (row: ClientRow | undefined): Client | null =>
    row === undefined ? null : toClient(row);

  return {
    create: async (client) =>
      insert.run(...params(client)).changes === 1
        ? { ok: true }
        : { ok: false, reason: 'client_exists' },
    put: async (client) => {
      upsert.run(...params(client));
    },
    findById: async (clientId) => find(byId.get(clientId)),
    findByKeyHash: async (keyHash) => find(byKeyHash.get(keyHash)),
    revoke: async (clientId, revokedAt) => {
      markRevoked.run(revokedAt, clientId);
      return find(byId.get(clientId));
    },
    setSecretHash: async (clientId, secretHash) =>
      setSecret.run(secretHash, clientId).changes === 1,
    secretHashOf: async (clientId) => secretById.get(clientId)?.secret_hash ?? null,
  };
};

const isRole = (role: string): role is ClientRole => CLIENT_ROLES.some((known) => known === role);

const toClient = (row: ClientRow): Client => {
  const { role, mode } = row;
  assert(isRole(role), `clients table holds unknown role '${role}'`);
  assert(isMode(mode), `clients table holds unknown mode '${mode}'`);
  return {
    clientId: row.client_id,
    role,
    mode,
    keyHash: row.key_hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
};
