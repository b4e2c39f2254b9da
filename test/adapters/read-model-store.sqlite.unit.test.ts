import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { readModelStoreContract } from './read-model-store.contract';

readModelStoreContract('sqlite', () =>
  Promise.resolve(createSqliteReadModelStore({ path: ':memory:' })),
);

describe('the SQLite read-model store', () => {
  it('rolls back the document changes when the checkpoint cannot be written', async () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteReadModelStore({ database });
    await store.ensureCollection({ name: 'things', indexes: [] });
    database.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON rm_checkpoints BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    );
    const change = { kind: 'put', collection: 'things', id: 'a', document: { n: 1 } } as const;
    await expect(
      store.commit([change], { name: 'c', position: 1n, occurredAt: 'x' }),
    ).rejects.toMatchObject({ message: 'disk full' });
    await expect(store.get('things', 'a')).resolves.toBeNull();
  });

  it('creates rowid tables: bodies are stored in insertion order, the id in a unique index', async () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteReadModelStore({ database });
    await store.ensureCollection({ name: 'things', indexes: [['owner']] });
    const { sql } = database
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'rm_things'")
      .get() as { sql: string };
    expect(sql).not.toContain('WITHOUT ROWID');
    const idIndexes = (
      database.prepare("SELECT name, [unique] FROM pragma_index_list('rm_things')").all() as {
        name: string;
        unique: number;
      }[]
    ).filter(({ name }) =>
      (database.prepare('SELECT name FROM pragma_index_info(?)').all(name) as { name: string }[])
        .map((column) => column.name)
        .includes('id'),
    );
    expect(idIndexes).toEqual([expect.objectContaining({ unique: 1 })]);
    const put = (id: string) => ({ kind: 'put', collection: 'things', id, document: {} }) as const;
    await store.commit([put('b'), put('a')], null);
    await expect(store.commit([put('a')], null)).resolves.toBeUndefined();
    expect(database.prepare('SELECT id FROM rm_things ORDER BY rowid').all()).toEqual([
      { id: 'b' },
      { id: 'a' },
    ]);
  });

  it('upgrades a table written before index columns existed, answering the same before and after', async () => {
    const database = openSqliteDatabase(':memory:');
    database.exec(`CREATE TABLE rm_things (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
      CREATE INDEX rm_things_i0 ON rm_things (json_extract(body, '$.merchantId'), json_extract(body, '$.createdAt'));`);
    database
      .prepare('INSERT INTO rm_things (id, body) VALUES (?, ?)')
      .run('p1', JSON.stringify({ merchantId: 'm1', createdAt: '2026-01-01', paid: true }));
    const store = createSqliteReadModelStore({ database });
    const query = {
      where: { merchantId: 'm1', paid: true },
      range: null,
      orderBy: { field: 'createdAt', direction: 'desc' as const },
      offset: 0,
      limit: 10,
    };
    await store.commit(
      [
        {
          kind: 'put',
          collection: 'things',
          id: 'p2',
          document: { merchantId: 'm1', createdAt: '2026-01-02', paid: true },
        },
      ],
      null,
    );
    const before = await store.find('things', query);
    expect(before.totalCount).toBe(2);
    await store.ensureCollection({
      name: 'things',
      indexes: [['merchantId', 'createdAt'], ['paid']],
    });
    expect(await store.find('things', query)).toEqual(before);
    const indexes = database
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rm_things' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all();
    expect(indexes).toEqual([
      { name: 'rm_things__merchantId__createdAt' },
      { name: 'rm_things__paid' },
    ]);
    const plan = database
      .prepare(
        "EXPLAIN QUERY PLAN SELECT body FROM rm_things WHERE f_merchantId = 'm1' ORDER BY f_createdAt DESC",
      )
      .all() as { detail: string }[];
    expect(plan.map((step) => step.detail).join(' ')).toContain('rm_things__merchantId__createdAt');
    await store.commit(
      [
        {
          kind: 'put',
          collection: 'things',
          id: 'p1',
          document: { merchantId: 'm2', createdAt: '2026-01-01', paid: false },
        },
      ],
      null,
    );
    expect((await store.find('things', query)).documents).toEqual([
      { merchantId: 'm1', createdAt: '2026-01-02', paid: true },
    ]);
  });

  it('stores index fields as json_extract returns them: booleans as 1/0, objects as JSON, missing as null', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    await store.ensureCollection({ name: 'things', indexes: [['paid'], ['tags'], ['owner']] });
    await store.commit(
      [
        {
          kind: 'put',
          collection: 'things',
          id: 'a',
          document: { paid: true, tags: ['x'], owner: 'o' },
        },
        { kind: 'put', collection: 'things', id: 'b', document: { paid: false, tags: { y: 1 } } },
      ],
      null,
    );
    const find = (where: Record<string, string | number | boolean>) =>
      store.find('things', {
        where,
        range: null,
        orderBy: { field: 'owner', direction: 'asc' },
        offset: 0,
        limit: 10,
      });
    await expect(find({ paid: true })).resolves.toMatchObject({
      totalCount: 1,
      documents: [{ owner: 'o' }],
    });
    await expect(find({ paid: 0 })).resolves.toMatchObject({
      totalCount: 1,
      documents: [{ paid: false }],
    });
    await expect(find({ tags: '["x"]' })).resolves.toMatchObject({ totalCount: 1 });
    await expect(find({ tags: '{"y":1}' })).resolves.toMatchObject({ totalCount: 1 });
    expect((await find({})).documents.map((document) => document['owner'] ?? null)).toEqual([
      null,
      'o',
    ]);
  });

  it('refuses collection and field names that are not identifiers', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    await expect(store.ensureCollection({ name: 'x; DROP TABLE y', indexes: [] })).rejects.toThrow(
      'bad collection name',
    );
    await store.ensureCollection({ name: 'things', indexes: [] });
    await expect(
      store.find('things', {
        where: { "a') OR 1=1 --": 'x' },
        range: null,
        orderBy: { field: 'a', direction: 'asc' },
        offset: 0,
        limit: 1,
      }),
    ).rejects.toThrow('bad field name');
  });

  it('keeps a collection with columns in a narrow table: a typed column per field, JSON for the rest', async () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteReadModelStore({ database });
    const columns = { owner: 'string', paid: 'boolean', amountMinor: 'number' } as const;
    await store.ensureCollection({ name: 'things', indexes: [['owner']], columns });
    const { sql } = database
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'rm_things'")
      .get() as { sql: string };
    expect(sql).toContain('WITHOUT ROWID');
    const put = (id: string, document: Record<string, unknown>) =>
      ({ kind: 'put', collection: 'things', id, document }) as never;
    await store.commit([put('a', { owner: 'o', paid: true, amountMinor: 5, tags: ['x'] })], null);
    await store.commit([put('b', { owner: 'o', paid: false, amountMinor: 7 })], null);
    expect(database.prepare('SELECT * FROM rm_things ORDER BY id').all()).toEqual([
      { id: 'a', body: '{"tags":["x"]}', f_owner: 'o', f_paid: 1, f_amountMinor: 5 },
      { id: 'b', body: null, f_owner: 'o', f_paid: 0, f_amountMinor: 7 },
    ]);
    await expect(
      store.ensureCollection({ name: 'others', indexes: [['paid']], columns: { owner: 'string' } }),
    ).rejects.toThrow('indexes paid, not a column');
  });

  it('keeps a document table whose spec comes to list columns: only the index columns are added', async () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteReadModelStore({ database });
    await store.ensureCollection({ name: 'things', indexes: [['owner']] });
    const document = { owner: 'o', amountMinor: 5, level: 2 };
    await store.commit([{ kind: 'put', collection: 'things', id: 'a', document }], null);
    const columns = { owner: 'string', amountMinor: 'number', level: 'number' } as const;
    await store.ensureCollection({ name: 'things', indexes: [['owner'], ['level']], columns });
    const names = (
      database.prepare('PRAGMA table_info(rm_things)').all() as { name: string }[]
    ).map(({ name }) => name);
    expect(names).toEqual(['id', 'body', 'f_owner', 'f_level']);
    await expect(store.get('things', 'a')).resolves.toStrictEqual(document);
    const found = await store.find('things', {
      where: { level: 2 },
      range: null,
      orderBy: { field: 'owner', direction: 'asc' },
      offset: 0,
      limit: 5,
    });
    expect(found).toStrictEqual({ documents: [document], totalCount: 1 });
  });

  it('rewrites only the index columns a put moved, so only their indexes change', async () => {
    const database = openSqliteDatabase(':memory:');
    const statements: string[] = [];
    const prepare = database.prepare.bind(database);
    database.prepare = ((sql: string) => {
      statements.push(sql);
      return prepare(sql);
    }) as typeof database.prepare;
    const store = createSqliteReadModelStore({ database });
    const indexes = [
      ['createdAt'],
      ['merchantId', 'status', 'createdAt'],
      ['channel', 'createdAt'],
    ];
    await store.ensureCollection({ name: 'payments', indexes });
    const pending = { merchantId: 'm', status: 'pending', channel: 'sandbox', createdAt: 't1' };
    const put = (id: string, document: typeof pending) =>
      ({ kind: 'put', collection: 'payments', id, document }) as const;
    await store.commit([put('p1', pending), put('p2', pending)], null);
    const writesBefore = statements.filter((sql) => sql.startsWith('UPDATE'));
    await store.commit([put('p1', { ...pending, status: 'succeeded' })], null);
    await store.commit([put('p2', { ...pending, status: 'failed', channel: 'wechat' })], null);
    const prepared = statements
      .filter((sql) => sql.startsWith('UPDATE'))
      .slice(writesBefore.length);
    expect(prepared).toEqual([
      'UPDATE rm_payments SET body = ?, f_status = ? WHERE id = ?',
      'UPDATE rm_payments SET body = ?, f_status = ?, f_channel = ? WHERE id = ?',
    ]);
    const statusOf = async (status: string) =>
      (
        await store.find('payments', {
          where: { merchantId: 'm', status },
          range: null,
          orderBy: { field: 'createdAt', direction: 'asc' },
          offset: 0,
          limit: 5,
        })
      ).documents;
    await expect(statusOf('pending')).resolves.toEqual([]);
    await expect(statusOf('succeeded')).resolves.toEqual([{ ...pending, status: 'succeeded' }]);
    await expect(store.get('payments', 'p2')).resolves.toEqual({
      ...pending,
      status: 'failed',
      channel: 'wechat',
    });
    const wechat = database
      .prepare("SELECT id FROM rm_payments WHERE f_channel = 'wechat'")
      .all() as { id: string }[];
    expect(wechat).toEqual([{ id: 'p2' }]);
  });

  it('reads a page and its total count from one snapshot, while another connection commits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'read-model-snapshot-'));
    try {
      const path = join(dir, 'read-models.sqlite');
      const database = openSqliteDatabase(path);
      const writer = openSqliteDatabase(path);
      const store = createSqliteReadModelStore({ database });
      await store.ensureCollection({ name: 'things', indexes: [['owner']] });
      const insert = writer.prepare(
        "INSERT INTO rm_things (id, body, f_owner) VALUES ('late', ?, 'o')",
      );
      // The read side's connection commits a document just after the page's rows were read.
      const prepare = database.prepare.bind(database);
      let pagesRead = 0;
      database.prepare = ((sql: string) => {
        const statement = prepare(sql);
        if (!sql.includes('LIMIT ? OFFSET ?')) return statement;
        const all = statement.all.bind(statement);
        return Object.assign(statement, {
          all: (...values: unknown[]) => {
            const rows = all(...values);
            if (pagesRead === 0) insert.run(JSON.stringify({ owner: 'o' }));
            pagesRead += 1;
            return rows;
          },
        });
      }) as typeof database.prepare;
      const ownedByO = () =>
        store.find('things', {
          where: { owner: 'o' },
          range: null,
          orderBy: { field: 'owner', direction: 'asc' },
          limit: 10,
          offset: 0,
        });
      const page = await ownedByO();
      expect(page).toEqual({ documents: [], totalCount: 0 });
      const next = await ownedByO();
      expect(next.totalCount).toBe(1);
      expect(next.documents).toHaveLength(1);
      writer.close();
      database.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
