import { assert } from '../../domain/assert';
import type { JsonObject, JsonValue } from '../../domain/ports/event-store.port';
import {
  IDENTIFIER_PATTERN,
  type Checkpoint,
  type CollectionSpec,
  type DocumentChange,
  type DocumentQuery,
  type FieldValue,
  type KeysetQuery,
  type ReadModelStore,
} from '../../domain/ports/read-model-store.port';
import { ensureSchema, openSqliteDatabase, type SqliteDatabase } from '../sqlite/open-database';

/**
 * The embedded read-model store: one table per collection holding each document as JSON text,
 * plus one column `f_<field>` per field its indexes name, written from the document on every put
 * and indexed. Plain columns, not indexes on json_extract(body): an expression index makes SQLite
 * parse the whole body once per index on every write (and the old body again on an update), which
 * was most of the projection's write cost. Fields without a column (an unindexed filter, or a
 * table written before columns existed) are still read with json_extract, the same values.
 * Tables are rowid tables with the id in a unique index: a new document's body goes to the end
 * of the table instead of into a random page of the id's B-tree (tables of older versions, WITHOUT
 * ROWID, work the same).
 */
type Statement = ReturnType<SqliteDatabase['prepare']> & {
  run(...values: unknown[]): unknown;
  get(...values: unknown[]): unknown;
  all(...values: unknown[]): unknown[];
};
type Table = {
  name: string;
  fields: ReadonlySet<string>;
  /** The same fields in column order: a write binds their values in this order. */
  fieldList: readonly string[];
  upsert: Statement;
  /** Rewrites the body of a row whose index columns already hold these values (else changes 0). */
  updateBody: Statement;
  /** Rewrites the body of a row the writer says keeps its index columns (else changes 0). */
  updateBodyKept: Statement;
  remove: Statement;
  select: Statement;
};

const tableOf = (collection: string): string => {
  assert(IDENTIFIER_PATTERN.test(collection), `read model: bad collection name ${collection}`);
  return `rm_${collection}`;
};

const checkedField = (field: string): string => {
  assert(IDENTIFIER_PATTERN.test(field), `read model: bad field name ${field}`);
  return field;
};

const columnOf = (field: string): string => `f_${checkedField(field)}`;

/** The index fields of a spec, each once, in the order they are first named. */
const fieldsOf = (spec: CollectionSpec): string[] => [
  ...new Set(spec.indexes.flat().map(checkedField)),
];

/** SQLite has no boolean: JSON true/false are 1/0, as json_extract returns them. */
const bindable = (value: FieldValue): string | number => {
  if (typeof value === 'boolean') return value ? 1 : 0;
  assert(typeof value === 'string' || typeof value === 'number', 'read model: non-literal value');
  return value;
};

/** A document field as json_extract would return it: objects and arrays as JSON text. */
const columnValue = (value: JsonValue | undefined): string | number | null =>
  value === undefined || value === null
    ? null
    : typeof value === 'object'
      ? JSON.stringify(value)
      : bindable(value);

/** The read-model file's page cache: an upper bound, filled only as pages are used. */
const READ_MODEL_PAGE_CACHE_KIB = 64 * 1024;

export const createSqliteReadModelStore = (
  options: { path: string; walAutoCheckpointPages?: number } | { database: SqliteDatabase },
): ReadModelStore => {
  const ownsDatabase = 'path' in options;
  const db = 'path' in options ? openSqliteDatabase(options.path) : options.database;
  // A service that checkpoints from another thread sets this high, as a safety net only.
  const autoCheckpointPages = 'path' in options ? options.walAutoCheckpointPages : undefined;
  if (autoCheckpointPages !== undefined) {
    assert(
      Number.isSafeInteger(autoCheckpointPages) && autoCheckpointPages > 0,
      'bad walAutoCheckpointPages',
    );
    db.pragma(`wal_autocheckpoint = ${autoCheckpointPages}`);
  }
  // Read models are derived: a commit need not be fsynced. In WAL mode a power cut can only lose
  // the last commits whole (documents and checkpoint together), and the runner re-applies them from
  // the log; an fsync per live batch on the service's thread was most of its lag under load.
  if (ownsDatabase) db.pragma('synchronous = NORMAL');
  // Collections of 100,000 documents and more (traffic users) are updated at random: with the
  // default 2 MiB page cache an upsert re-reads its index pages from the OS and costs twice as much.
  if (ownsDatabase) db.pragma(`cache_size = -${READ_MODEL_PAGE_CACHE_KIB}`);
  ensureSchema(db, 'read_models', 1, (database) =>
    database.exec(
      'CREATE TABLE IF NOT EXISTS rm_checkpoints ' +
        '(name TEXT PRIMARY KEY, position TEXT NOT NULL, occurred_at TEXT NOT NULL)',
    ),
  );
  // Query statements per SQL text; the texts come from code-defined collections and query shapes.
  const statements = new Map<string, Statement>();
  const prepared = (sql: string): Statement => {
    const existing = statements.get(sql);
    if (existing !== undefined) return existing;
    const statement = db.prepare<unknown[]>(sql) as Statement;
    statements.set(sql, statement);
    return statement;
  };
  const tables = new Map<string, Table>();
  const forget = (collection: string): void => {
    const table = tableOf(collection);
    tables.delete(collection);
    for (const sql of [...statements.keys()])
      if (sql.includes(` ${table} `)) statements.delete(sql);
  };
  const columnsOf = (table: string): string[] =>
    (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map(
      (column) => column.name,
    );

  /** The table's layout, read from the file once, so a table written by another process works too. */
  const tableFor = (collection: string): Table => {
    const cached = tables.get(collection);
    if (cached !== undefined) return cached;
    const name = tableOf(collection);
    const fields = columnsOf(name)
      .filter((column) => column.startsWith('f_'))
      .map((column) => column.slice(2));
    const columns = fields.map(columnOf);
    const updates = ['body', ...columns]
      .map((column) => `${column} = excluded.${column}`)
      .join(', ');
    const table: Table = {
      name,
      fields: new Set(fields),
      fieldList: fields,
      upsert: db.prepare(
        `INSERT INTO ${name} (id, body${columns.map((column) => `, ${column}`).join('')}) VALUES (?, ?${', ?'.repeat(columns.length)}) ON CONFLICT (id) DO UPDATE SET ${updates}`,
      ) as Statement,
      updateBody: db.prepare(
        `UPDATE ${name} SET body = ? WHERE id = ?${columns.map((column) => ` AND ${column} IS ?`).join('')}`,
      ) as Statement,
      updateBodyKept: db.prepare(`UPDATE ${name} SET body = ? WHERE id = ?`) as Statement,
      remove: db.prepare(`DELETE FROM ${name} WHERE id = ?`) as Statement,
      select: db.prepare(`SELECT body FROM ${name} WHERE id = ?`) as Statement,
    };
    tables.set(collection, table);
    return table;
  };

  const expressionOf = (table: Table, field: string): string =>
    table.fields.has(field) ? columnOf(field) : `json_extract(body, '$.${checkedField(field)}')`;

  const whereClause = (
    table: Table,
    query: Omit<DocumentQuery, 'offset' | 'orderBy'>,
  ): { sql: string; values: (string | number)[] } => {
    const parts: string[] = [];
    const values: (string | number)[] = [];
    for (const [field, value] of Object.entries(query.where)) {
      parts.push(`${expressionOf(table, field)} = ?`);
      values.push(bindable(value));
    }
    const { range } = query;
    if (range?.from !== null && range?.from !== undefined) {
      parts.push(`${expressionOf(table, range.field)} >= ?`);
      values.push(bindable(range.from));
    }
    if (range?.to !== null && range?.to !== undefined) {
      parts.push(`${expressionOf(table, range.field)} < ?`);
      values.push(bindable(range.to));
    }
    return { sql: parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`, values };
  };

  const applyChange = (change: DocumentChange): void => {
    const table = tableFor(change.collection);
    if (change.kind === 'delete') {
      table.remove.run(change.id);
      return;
    }
    const { document, id } = change;
    const body = JSON.stringify(document);
    const kept = change.indexedFieldsKept === true;
    // A writer that knows the index columns keep their values (a traffic user's usage) spares
    // binding and comparing them: half the cost of a write (docs/read-side.md).
    if (kept && (table.updateBodyKept.run(body, id) as { changes: number }).changes > 0) return;
    const { fieldList } = table;
    // One array per write: [body, id, ...columns] binds the update, its tail after the id the
    // upsert's columns (an array binds as the statement's parameters, without a spread).
    const values: (string | number | null)[] = [body, id];
    for (const field of fieldList) values.push(columnValue(document[field]));
    // Most changes leave the index columns as they were (a balance, a usage): rewriting only the
    // body spares every index a delete and an insert. New rows and moved ones take the upsert.
    if (!kept && (table.updateBody.run(values) as { changes: number }).changes > 0) return;
    values[0] = id;
    values[1] = body;
    table.upsert.run(values);
  };
  const saveCheckpoint = (checkpoint: Checkpoint): void => {
    prepared(
      'INSERT INTO rm_checkpoints (name, position, occurred_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (name) DO UPDATE SET position = excluded.position, occurred_at = excluded.occurred_at',
    ).run(checkpoint.name, checkpoint.position.toString(), checkpoint.occurredAt);
  };
  const commitNow = db.transaction(
    (changes: readonly DocumentChange[], checkpoint: Checkpoint | null) => {
      changes.forEach(applyChange);
      if (checkpoint !== null) saveCheckpoint(checkpoint);
    },
  );

  /** Creates the table, or adds (and fills) the columns a table written by older code lacks. */
  const ensureTable = (spec: CollectionSpec): void => {
    const table = tableOf(spec.name);
    const fields = fieldsOf(spec);
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (id TEXT NOT NULL PRIMARY KEY, body TEXT NOT NULL${fields.map((field) => `, ${columnOf(field)}`).join('')})`,
    );
    const existing = new Set(columnsOf(table));
    for (const field of fields.filter((candidate) => !existing.has(columnOf(candidate)))) {
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${columnOf(field)}`);
      db.exec(`UPDATE ${table} SET ${columnOf(field)} = json_extract(body, '$.${field}')`);
    }
    const legacy = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql LIKE '%json_extract%'",
      )
      .all(table) as { name: string }[];
    for (const index of legacy) db.exec(`DROP INDEX ${index.name}`);
    for (const indexFields of spec.indexes) {
      const indexName = `${table}__${indexFields.join('__')}`;
      db.exec(
        `CREATE INDEX IF NOT EXISTS ${indexName} ON ${table} (${indexFields.map(columnOf).join(', ')})`,
      );
    }
  };

  return {
    ensureCollection: async (spec) => {
      forget(spec.name);
      db.transaction(() => ensureTable(spec)).immediate();
    },
    dropCollection: async (name) => {
      forget(name);
      db.exec(`DROP TABLE IF EXISTS ${tableOf(name)}`);
    },
    get: async (collection, id) => {
      const row = tableFor(collection).select.get(id) as { body: string } | undefined;
      return row === undefined ? null : (JSON.parse(row.body) as JsonObject);
    },
    find: async (collection, query) => {
      const table = tableFor(collection);
      const where = whereClause(table, query);
      const direction = query.orderBy.direction === 'asc' ? 'ASC' : 'DESC';
      const order = `ORDER BY ${expressionOf(table, query.orderBy.field)} ${direction}, id ${direction}`;
      const rows = prepared(
        `SELECT body FROM ${table.name} ${where.sql} ${order} LIMIT ? OFFSET ?`,
      ).all(...where.values, query.limit, query.offset) as { body: string }[];
      const counted = prepared(`SELECT count(*) AS total FROM ${table.name} ${where.sql}`).get(
        ...where.values,
      ) as { total: number };
      return {
        documents: rows.map((row) => JSON.parse(row.body) as JsonObject),
        totalCount: counted.total,
      };
    },
    getMany: async (collection, ids) => {
      const found = new Map<string, JsonObject>();
      if (ids.length === 0) return found;
      // One statement for the whole list: json_each turns the JSON array into rows that seek the
      // id index one by one, without a statement (and a bound call from JavaScript) per id.
      const rows = prepared(
        `SELECT id, body FROM ${tableFor(collection).name} WHERE id IN (SELECT value FROM json_each(?))`,
      ).all(JSON.stringify(ids)) as { id: string; body: string }[];
      for (const row of rows) found.set(row.id, JSON.parse(row.body) as JsonObject);
      return found;
    },
    findAfter: async (collection, query: KeysetQuery) => {
      const table = tableFor(collection);
      const where = whereClause(table, query);
      const ascending = query.orderBy.direction === 'asc';
      const direction = ascending ? 'ASC' : 'DESC';
      const order = expressionOf(table, query.orderBy.field);
      const parts = where.sql === '' ? [] : [where.sql.slice('WHERE '.length)];
      const values = [...where.values];
      if (query.after !== null) {
        // A row value: SQLite seeks the index to the key and reads on from there.
        parts.push(`(${order}, id) ${ascending ? '>' : '<'} (?, ?)`);
        values.push(bindable(query.after.value), query.after.id);
      }
      const filter = parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`;
      const rows = prepared(
        `SELECT body FROM ${table.name} ${filter} ORDER BY ${order} ${direction}, id ${direction} LIMIT ?`,
      ).all(...values, query.limit) as { body: string }[];
      return rows.map((row) => JSON.parse(row.body) as JsonObject);
    },
    commit: async (changes, checkpoint) => {
      commitNow.immediate(changes, checkpoint);
    },
    readCheckpoint: async (name) => {
      const row = prepared('SELECT position, occurred_at FROM rm_checkpoints WHERE name = ?').get(
        name,
      ) as { position: string; occurred_at: string } | undefined;
      return row === undefined
        ? null
        : { name, position: BigInt(row.position), occurredAt: row.occurred_at };
    },
    deleteCheckpoint: async (name) => {
      prepared('DELETE FROM rm_checkpoints WHERE name = ?').run(name);
    },
    close: async () => {
      if (ownsDatabase) db.close();
    },
  };
};
