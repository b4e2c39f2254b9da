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
import {
  narrowColumnDefinition,
  narrowDocumentOf,
  narrowKindOf,
  narrowRowOf,
  type NarrowColumn,
} from './sqlite-narrow-table';

/**
 * The embedded read-model store: one table per collection holding each document as JSON text,
 * plus one column `f_<field>` per field its indexes name, written from the document on every put
 * and indexed. Plain columns, not indexes on json_extract(body): an expression index makes SQLite
 * parse the whole body once per index on every write (and the old body again on an update), which
 * was most of the projection's write cost. Fields without a column (an unindexed filter, or a
 * table written before columns existed) are still read with json_extract, the same values.
 * Tables are rowid tables with the id in a unique index: a new document's body goes to the end
 * of the table instead of into a random page of the id's B-tree (tables of older versions, WITHOUT
 * ROWID, work the same). A collection whose spec lists `columns` gets a narrow table instead
 * (adapters/readmodels/sqlite-narrow-table.ts): a column per listed field, JSON only for the rest.
 */
type Statement = ReturnType<SqliteDatabase['prepare']> & {
  run(...values: unknown[]): unknown;
  get(...values: unknown[]): unknown;
  all(...values: unknown[]): unknown[];
};
/**
 * A narrow table's columns, those no index names first (a write that keeps the indexed fields
 * binds only them), and each field's kind.
 */
type NarrowLayout = {
  columns: readonly NarrowColumn[];
  kinds: ReadonlyMap<string, NarrowColumn['kind']>;
  unindexedCount: number;
};
type Table = {
  name: string;
  /** Null: a document table (the whole document as JSON in `body`). */
  narrow: NarrowLayout | null;
  fields: ReadonlySet<string>;
  /** The same fields in column order: a write binds their values in this order. */
  fieldList: readonly string[];
  upsert: Statement;
  /** Adds a row unless its id is there (else changes 0). */
  insertNew: Statement;
  /** The stored index columns of a row, as an array in `fieldList` order. */
  selectColumns: Statement;
  /**
   * `UPDATE … SET body = ?, <the moved columns> = ? WHERE id = ?` by bit mask of `fieldList`:
   * SQLite rewrites every index naming a column the SET assigns, whether its value changed or
   * not, so a payment whose status moved rewrites two of its six indexes instead of six.
   */
  updateMoved: Map<number, Statement>;
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

/** What a query selects of a row: the body, and a narrow table's columns. */
const selectionOf = (narrow: NarrowLayout | null): string =>
  narrow === null ? 'body' : ['body', ...narrow.columns.map(({ column }) => column)].join(', ');

/** The document a selected row holds. */
const documentOf = (table: Table, row: Record<string, unknown>): JsonObject =>
  table.narrow === null
    ? (JSON.parse(row['body'] as string) as JsonObject)
    : narrowDocumentOf(row, table.narrow.columns);

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
  // A page and its total count read in one transaction, so from one snapshot of the file: the
  // read side commits from another connection, and between two statements a page could miss a
  // document its count already holds.
  const inOneSnapshot = db.transaction(
    (read: () => { rows: Record<string, unknown>[]; counted: { total: number } }) => read(),
  );
  const tables = new Map<string, Table>();
  const forget = (collection: string): void => {
    const table = tableOf(collection);
    tables.delete(collection);
    for (const sql of [...statements.keys()])
      if (sql.includes(` ${table} `)) statements.delete(sql);
  };
  type ColumnInfo = { name: string; type: string; notnull: number };
  const tableInfoOf = (table: string): ColumnInfo[] =>
    db.prepare(`PRAGMA table_info(${table})`).all() as ColumnInfo[];
  const indexedColumnsOf = (table: string): Set<string> =>
    new Set(
      (db.prepare(`PRAGMA index_list(${table})`).all() as { name: string }[]).flatMap(({ name }) =>
        (db.prepare('SELECT name FROM pragma_index_info(?)').all(name) as { name: string }[]).map(
          (column) => column.name,
        ),
      ),
    );
  /** A narrow table's layout (its body may be NULL); null for a document table. */
  const narrowLayoutOf = (table: string, info: readonly ColumnInfo[]): NarrowLayout | null => {
    if (info.find((column) => column.name === 'body')?.notnull !== 0) return null;
    const indexed = indexedColumnsOf(table);
    const columns = info.flatMap(({ name, type }): NarrowColumn[] => {
      const kind = narrowKindOf(type);
      return name.startsWith('f_') && kind !== null
        ? [{ field: name.slice(2), column: name, kind }]
        : [];
    });
    const unindexed = columns.filter(({ column }) => !indexed.has(column));
    return {
      columns: [...unindexed, ...columns.filter(({ column }) => indexed.has(column))],
      kinds: new Map(columns.map(({ field, kind }) => [field, kind])),
      unindexedCount: unindexed.length,
    };
  };

  /** The table's layout, read from the file once, so a table written by another process works too. */
  const tableFor = (collection: string): Table => {
    const cached = tables.get(collection);
    if (cached !== undefined) return cached;
    const name = tableOf(collection);
    const info = tableInfoOf(name);
    const narrow = narrowLayoutOf(name, info);
    // A narrow table's columns in its layout's order; a document table's index columns.
    const fields =
      narrow === null
        ? info
            .filter(({ name: column }) => column.startsWith('f_'))
            .map(({ name: c }) => c.slice(2))
        : narrow.columns.map(({ field }) => field);
    const columns = fields.map(columnOf);
    const updates = ['body', ...columns]
      .map((column) => `${column} = excluded.${column}`)
      .join(', ');
    // What a write that keeps the index columns rewrites, and the index columns it leaves.
    const rewritten = ['body', ...columns.slice(0, narrow?.unindexedCount ?? 0)];
    const compared = columns.slice(narrow?.unindexedCount ?? 0);
    const assignments = rewritten.map((column) => `${column} = ?`).join(', ');
    const table: Table = {
      name,
      narrow,
      fields: new Set(fields),
      fieldList: fields,
      upsert: db.prepare(
        `INSERT INTO ${name} (id, body${columns.map((column) => `, ${column}`).join('')}) VALUES (?, ?${', ?'.repeat(columns.length)}) ON CONFLICT (id) DO UPDATE SET ${updates}`,
      ) as Statement,
      updateBody: db.prepare(
        `UPDATE ${name} SET ${assignments} WHERE id = ?${compared.map((column) => ` AND ${column} IS ?`).join('')}`,
      ) as Statement,
      insertNew: db.prepare(
        `INSERT INTO ${name} (id, body${columns.map((column) => `, ${column}`).join('')}) VALUES (?, ?${', ?'.repeat(columns.length)}) ON CONFLICT (id) DO NOTHING`,
      ) as Statement,
      selectColumns: (
        db.prepare(
          `SELECT ${columns.length === 0 ? 'id' : columns.join(', ')} FROM ${name} WHERE id = ?`,
        ) as Statement
      ).raw(true) as Statement,
      updateMoved: new Map(),
      updateBodyKept: db.prepare(`UPDATE ${name} SET ${assignments} WHERE id = ?`) as Statement,
      remove: db.prepare(`DELETE FROM ${name} WHERE id = ?`) as Statement,
      select: db.prepare(`SELECT ${selectionOf(narrow)} FROM ${name} WHERE id = ?`) as Statement,
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

  /**
   * A narrow row's write: the columns no index names (and the body) when the index columns keep
   * their values, else the upsert. [body, ...unindexed, id, ...indexed] binds the updates.
   */
  const putNarrow = (
    table: Table,
    narrow: NarrowLayout,
    change: DocumentChange & { kind: 'put' },
  ): void => {
    const { id, document } = change;
    const { body, values } = narrowRowOf(document, narrow.columns, narrow.kinds);
    const { unindexedCount } = narrow;
    const kept = change.indexedFieldsKept === true;
    const parameters: (string | number | null)[] = [body];
    for (let index = 0; index < unindexedCount; index += 1) parameters.push(values[index] ?? null);
    parameters.push(id);
    if (kept && (table.updateBodyKept.run(parameters) as { changes: number }).changes > 0) return;
    if (!kept) {
      for (let index = unindexedCount; index < values.length; index += 1)
        parameters.push(values[index] ?? null);
      if ((table.updateBody.run(parameters) as { changes: number }).changes > 0) return;
    }
    table.upsert.run([id, body, ...values]);
  };

  const applyChange = (change: DocumentChange): void => {
    const table = tableFor(change.collection);
    if (change.kind === 'delete') {
      table.remove.run(change.id);
      return;
    }
    const { document, id } = change;
    if (table.narrow !== null) {
      putNarrow(table, table.narrow, change);
      return;
    }
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
    // body spares every index a delete and an insert. New rows are inserted; a row whose index
    // columns moved gets only those columns rewritten (and only their indexes).
    if (!kept && (table.updateBody.run(values) as { changes: number }).changes > 0) return;
    values[0] = id;
    values[1] = body;
    if ((table.insertNew.run(values) as { changes: number }).changes > 0) return;
    updateMovedColumns(table, id, body, values.slice(2));
  };

  /** Rewrites the body and the index columns whose stored values differ from `columnValues`. */
  const updateMovedColumns = (
    table: Table,
    id: string,
    body: string,
    columnValues: readonly (string | number | null)[],
  ): void => {
    assert(columnValues.length < 31, `read model: ${table.name} has too many index columns`);
    const stored = table.selectColumns.get(id) as unknown[] | undefined;
    assert(stored !== undefined, `read model: ${table.name} row ${id} vanished in a commit`);
    const parameters: (string | number | null)[] = [body];
    let mask = 0;
    columnValues.forEach((value, index) => {
      if (stored[index] === value) return;
      mask |= 1 << index;
      parameters.push(value);
    });
    parameters.push(id);
    updateMovedStatement(table, mask).run(parameters);
  };

  const updateMovedStatement = (table: Table, mask: number): Statement => {
    const existing = table.updateMoved.get(mask);
    if (existing !== undefined) return existing;
    const moved = table.fieldList.filter((_, index) => (mask & (1 << index)) !== 0);
    const assignments = ['body', ...moved.map(columnOf)].map((column) => `${column} = ?`);
    const statement = db.prepare(
      `UPDATE ${table.name} SET ${assignments.join(', ')} WHERE id = ?`,
    ) as Statement;
    table.updateMoved.set(mask, statement);
    return statement;
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
    const { columns } = spec;
    const fields = columns === undefined ? fieldsOf(spec) : Object.keys(columns).map(checkedField);
    for (const field of fieldsOf(spec))
      assert(fields.includes(field), `read model: ${spec.name} indexes ${field}, not a column`);
    // A narrow table is keyed by id alone (WITHOUT ROWID): its rows are small, a write is one seek.
    const definitions =
      columns === undefined
        ? ['body TEXT NOT NULL', ...fields.map(columnOf)]
        : [
            'body TEXT',
            ...Object.entries(columns).map(([field, kind]) => narrowColumnDefinition(field, kind)),
          ];
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (id TEXT NOT NULL PRIMARY KEY, ${definitions.join(', ')})` +
        (columns === undefined ? '' : ' WITHOUT ROWID'),
    );
    const info = tableInfoOf(table);
    const existing = new Set(info.map(({ name }) => name));
    // A document table written before its spec listed columns keeps its layout (a new generation
    // gets the narrow one): it gains only the index columns it lacks.
    const missing = (narrowLayoutOf(table, info) === null ? fieldsOf(spec) : fields).filter(
      (candidate) => !existing.has(columnOf(candidate)),
    );
    for (const field of missing) {
      const kind = columns?.[field];
      db.exec(
        `ALTER TABLE ${table} ADD COLUMN ${kind === undefined ? columnOf(field) : narrowColumnDefinition(field, kind)}`,
      );
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
      const table = tableFor(collection);
      const row = table.select.get(id) as Record<string, unknown> | undefined;
      return row === undefined ? null : documentOf(table, row);
    },
    find: async (collection, query) => {
      const table = tableFor(collection);
      const where = whereClause(table, query);
      const direction = query.orderBy.direction === 'asc' ? 'ASC' : 'DESC';
      const order = `ORDER BY ${expressionOf(table, query.orderBy.field)} ${direction}, id ${direction}`;
      const pageStatement = prepared(
        `SELECT ${selectionOf(table.narrow)} FROM ${table.name} ${where.sql} ${order} LIMIT ? OFFSET ?`,
      );
      const countStatement = prepared(`SELECT count(*) AS total FROM ${table.name} ${where.sql}`);
      const { rows, counted } = inOneSnapshot(() => ({
        rows: pageStatement.all(...where.values, query.limit, query.offset) as Record<
          string,
          unknown
        >[],
        counted: countStatement.get(...where.values) as { total: number },
      }));
      return {
        documents: rows.map((row) => documentOf(table, row)),
        totalCount: counted.total,
      };
    },
    getMany: async (collection, ids) => {
      const found = new Map<string, JsonObject>();
      if (ids.length === 0) return found;
      // One statement for the whole list: json_each turns the JSON array into rows that seek the
      // id index one by one, without a statement (and a bound call from JavaScript) per id.
      const table = tableFor(collection);
      const rows = prepared(
        `SELECT id, ${selectionOf(table.narrow)} FROM ${table.name} WHERE id IN (SELECT value FROM json_each(?))`,
      ).all(JSON.stringify(ids)) as (Record<string, unknown> & { id: string })[];
      for (const row of rows) found.set(row.id, documentOf(table, row));
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
        `SELECT ${selectionOf(table.narrow)} FROM ${table.name} ${filter} ORDER BY ${order} ${direction}, id ${direction} LIMIT ?`,
      ).all(...values, query.limit) as Record<string, unknown>[];
      return rows.map((row) => documentOf(table, row));
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
