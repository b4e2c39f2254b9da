import { LRUCache } from 'lru-cache';
import { assert } from '../../domain/assert';
import type { Grant } from '../../domain/auth/grants';
import { isScope } from '../../domain/auth/scopes';
import type { GrantStore } from '../../domain/ports/grant-store.port';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';
import { sqliteGuarded } from '../sqlite/outage';

type GrantRow = {
  grant_id: string;
  client_id: string;
  scopes: string;
  resources: string;
  granted_by: string;
  granted_at: string;
  expires_at: string;
  revoked_at: string | null;
};

const SCHEMA_VERSION = 1;
const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS client_grants (
    grant_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    resources TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS client_grants_by_client ON client_grants (client_id, granted_at);
`;
const COLUMNS =
  'grant_id, client_id, scopes, resources, granted_by, granted_at, expires_at, revoked_at';

/** Clients whose grants are kept in memory (least recently authenticated dropped first). */
const CACHED_CLIENT_COUNT_MAX = 10_000;

/**
 * The GrantStore in a table of a SQLite database the caller owns; scopes and resources as JSON.
 * Every authenticated request lists its client's grants: the answer is kept per client (and per
 * countMax asked) and dropped by this store's own add and revoke, so a revoked grant is refused
 * at once. This store is the table's only writer: the service holds the data directory's lock,
 * and no CLI writes grants. Expiry is judged by the reader at each use, never cached.
 */
export const createSqliteGrantStore = (database: SqliteDatabase): GrantStore => {
  ensureSchema(database, 'client_grants', SCHEMA_VERSION, (db) => db.exec(SCHEMA_SQL));
  const insert = database.prepare(
    `INSERT INTO client_grants (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (grant_id) DO NOTHING`,
  );
  const byClient = database.prepare<[string, number], GrantRow>(
    `SELECT ${COLUMNS} FROM client_grants WHERE client_id = ?
     ORDER BY granted_at DESC, grant_id DESC LIMIT ?`,
  );
  const markRevoked = database.prepare<[string, string, string]>(
    `UPDATE client_grants SET revoked_at = coalesce(revoked_at, ?)
     WHERE grant_id = ? AND client_id = ?`,
  );
  const byId = database.prepare<[string, string], GrantRow>(
    `SELECT ${COLUMNS} FROM client_grants WHERE grant_id = ? AND client_id = ?`,
  );
  const cached = new LRUCache<string, Map<number, readonly Grant[]>>({
    max: CACHED_CLIENT_COUNT_MAX,
  });
  const listed = (clientId: string, countMax: number): readonly Grant[] => {
    const answers = cached.get(clientId) ?? new Map<number, readonly Grant[]>();
    const known = answers.get(countMax);
    if (known !== undefined) return known;
    const grants = sqliteGuarded('grant store', () => byClient.all(clientId, countMax)).map(
      toGrant,
    );
    // Read inside a transaction still open on the connection (a write batch of the turn), the
    // answer may include a write that its rollback takes back: not kept.
    if (database.inTransaction) return grants;
    answers.set(countMax, grants);
    cached.set(clientId, answers);
    return grants;
  };
  /** Runs a write of the client's grants; what was kept for the client is dropped, even on failure. */
  const writing = <T>(clientId: string, write: () => T): T => {
    try {
      return write();
    } finally {
      cached.delete(clientId);
    }
  };
  return {
    add: async (grant) =>
      writing(grant.clientId, () =>
        sqliteGuarded('grant store', () =>
          insert.run(
            grant.grantId,
            grant.clientId,
            JSON.stringify(grant.scopes),
            JSON.stringify(grant.resources),
            grant.grantedBy,
            grant.grantedAt,
            grant.expiresAt,
            grant.revokedAt,
          ),
        ),
      ).changes === 1
        ? { ok: true }
        : { ok: false, reason: 'grant_exists' },
    // A copy: a caller's change to the list never reaches the next request's answer.
    listByClient: async (clientId, countMax) => [...listed(clientId, countMax)],
    revoke: async (clientId, grantId, revokedAt) => {
      const row = writing(clientId, () =>
        sqliteGuarded('grant store', () => {
          markRevoked.run(revokedAt, grantId, clientId);
          return byId.get(grantId, clientId);
        }),
      );
      return row === undefined ? null : toGrant(row);
    },
  };
};

const stringArray = (json: string, column: string): string[] => {
  const parsed: unknown = JSON.parse(json);
  assert(
    Array.isArray(parsed) && parsed.every((item) => typeof item === 'string'),
    `client_grants.${column} is not a JSON array of strings`,
  );
  return parsed as string[];
};

const toGrant = (row: GrantRow): Grant => {
  const scopes = stringArray(row.scopes, 'scopes');
  assert(scopes.every(isScope), `client_grants holds an unknown scope in ${row.grant_id}`);
  return {
    grantId: row.grant_id,
    clientId: row.client_id,
    scopes: scopes.filter(isScope),
    resources: stringArray(row.resources, 'resources'),
    grantedBy: row.granted_by,
    grantedAt: row.granted_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
};
