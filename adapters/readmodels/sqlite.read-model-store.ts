import { assert } from '../../domain/assert';
import type { JsonObject } from '../../domain/ports/event-store.port';
import {
  IDENTIFIER_PATTERN,
  type Checkpoint,
  type DocumentChange,
  type DocumentQuery,
  type FieldValue,
  type ReadModelStore,
} from '../../domain/ports/read-model-store.port';
import { ensureSchema, openSqliteDatabase, type SqliteDatabase } from '../sqlite/open-database';

/**
 * The embedded read-model store: one table per collection holding each document as JSON text,
 * with expression indexes on json_extract of the declared fields (SQLite uses them when a query
 * repeats the same expression, which every query here does).
 */
type Statement = ReturnType<SqliteDatabase['prepare']> & { run(...values: unknown[]): unknown; get(...values: unknown[]): unknown; all(...values: unknown[]): unknown[] };

const tableOf = (collection: string): string => {
  assert(IDENTIFIER_PATTERN.test(collection), `read model: bad collection name ${collection}`);
  return `rm_${collection}`;
};

const fieldOf = (field: string): string => {
  assert(IDENTIFIER_PATTERN.test(field), `read model: bad field name ${field}`);
  return `json_extract(body, '$.${field}')`;
};

/** SQLite has no boolean: JSON true/false come back from json_extract as 1/0. */
const bindable = (value: FieldValue): string | number => {
  assert(['string', 'number', 'boolean'].includes(typeof value), 'read model: non-literal value');
  return typeof value === 'boolean' ? Number(value) : value;
};

const whereClause = (query: DocumentQuery): { sql: string; values: (string | number)[] } => {
  const parts: string[] = [];
  const values: (string | number)[] = [];
  for (const [field, value] of Object.entries(query.where)) {
    parts.push(`${fieldOf(field)} = ?`);
    values.push(bindable(value));
  }
  const { range } = query;
  if (range?.from !== null && range?.from !== undefined) {
    parts.push(`${fieldOf(range.field)} >= ?`);
    values.push(bindable(range.from));
  }
  if (range?.to !== null && range?.to !== undefined) {
    parts.push(`${fieldOf(range.field)} < ?`);
    values.push(bindable(range.to));
  }
  return { sql: parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`, values };
};

export const createSqliteReadModelStore = (options: { path: string } | { database: SqliteDatabase }): ReadModelStore => {
  const ownsDatabase = 'path' in options;
  const db = 'path' in options ? openSqliteDatabase(options.path) : options.database;
  ensureSchema(db, 'read_models', 1, (database) =>
    database.exec(
      'CREATE TABLE IF NOT EXISTS rm_checkpoints ' +
        '(name TEXT PRIMARY KEY, position TEXT NOT NULL, occurred_at TEXT NOT NULL)',
    ),
  );
  // Statements per SQL text; the texts come from code-defined collections and query shapes.
  const statements = new Map<string, Statement>();
  const prepared = (sql: string): Statement => {
    const existing = statements.get(sql);
    if (existing !== undefined) return existing;
    const statement = db.prepare<unknown[]>(sql) as Statement;
    statements.set(sql, statement);
    return statement;
  };
  const forgetStatementsOf = (table: string): void => {
    for (const sql of [...statements.keys()]) if (sql.includes(` ${table} `)) statements.delete(sql);
  };

  const applyChange = (change: DocumentChange): void => {
    const table = tableOf(change.collection);
    if (change.kind === 'put') {
      const sql = `INSERT INTO ${table} (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body`;
      prepared(sql).run(change.id, JSON.stringify(change.document));
    } else {
      prepared(`DELETE FROM ${table} WHERE id = ?`).run(change.id);
    }
  };
  const saveCheckpoint = (checkpoint: Checkpoint): void => {
    prepared(
      'INSERT INTO rm_checkpoints (name, position, occurred_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (name) DO UPDATE SET position = excluded.position, occurred_at = excluded.occurred_at',
    ).run(checkpoint.name, checkpoint.position.toString(), checkpoint.occurredAt);
  };
  const commitNow = db.transaction((changes: readonly DocumentChange[], checkpoint: Checkpoint | null) => {
    changes.forEach(applyChange);
    if (checkpoint !== null) saveCheckpoint(checkpoint);
  });

  return {
    ensureCollection: async (spec) => {
      const table = tableOf(spec.name);
      db.transaction(() => {
        db.exec(`CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID`);
        spec.indexes.forEach((fields, index) => {
          const columns = fields.map(fieldOf).join(', ');
          db.exec(`CREATE INDEX IF NOT EXISTS ${table}_i${index} ON ${table} (${columns})`);
        });
      }).immediate();
    },
    dropCollection: async (name) => {
      const table = tableOf(name);
      forgetStatementsOf(table);
      db.exec(`DROP TABLE IF EXISTS ${table}`);
    },
    get: async (collection, id) => {
      const row = prepared(`SELECT body FROM ${tableOf(collection)} WHERE id = ?`).get(id) as { body: string } | undefined;
      return row === undefined ? null : (JSON.parse(row.body) as JsonObject);
    },
    find: async (collection, query) => {
      const table = tableOf(collection);
      const where = whereClause(query);
      const direction = query.orderBy.direction === 'asc' ? 'ASC' : 'DESC';
      const order = `ORDER BY ${fieldOf(query.orderBy.field)} ${direction}, id ${direction}`;
      const rows = prepared(`SELECT body FROM ${table} ${where.sql} ${order} LIMIT ? OFFSET ?`)
        .all(...where.values, query.limit, query.offset) as { body: string }[];
      const counted = prepared(`SELECT count(*) AS total FROM ${table} ${where.sql}`).get(...where.values) as { total: number };
      return { documents: rows.map((row) => JSON.parse(row.body) as JsonObject), totalCount: counted.total };
    },
    commit: async (changes, checkpoint) => {
      commitNow.immediate(changes, checkpoint);
    },
    readCheckpoint: async (name) => {
      const row = prepared('SELECT position, occurred_at FROM rm_checkpoints WHERE name = ?').get(name) as
        | { position: string; occurred_at: string }
        | undefined;
      return row === undefined ? null : { name, position: BigInt(row.position), occurredAt: row.occurred_at };
    },
    deleteCheckpoint: async (name) => {
      prepared('DELETE FROM rm_checkpoints WHERE name = ?').run(name);
    },
    close: async () => {
      if (ownsDatabase) db.close();
    },
  };
};
