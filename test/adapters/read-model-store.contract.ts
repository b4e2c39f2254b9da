import type {
  CollectionSpec,
  DocumentQuery,
  ReadModelStore,
} from '../../domain/ports/read-model-store.port';

/** Every ReadModelStore adapter runs this unchanged; each test uses fresh collection names. */
let collectionCounter = 0;
const freshName = (): string => {
  collectionCounter += 1;
  return `contract_${Date.now()}_${collectionCounter}`;
};

/** How the adapter's database would run find(): from an index, and with a sort in memory or not. */
export type QueryPlan = { usesIndex: boolean; sortsInMemory: boolean };

/**
 * The suite runs on a collection of JSON documents and on one whose spec lists typed columns (a
 * store may keep those in a narrow table): the answers are the same.
 */
const COLUMNS: CollectionSpec['columns'] = {
  merchantId: 'string',
  createdAt: 'string',
  paid: 'boolean',
  amountMinor: 'number',
};

export const readModelStoreContract = (
  adapterName: string,
  open: () => Promise<ReadModelStore>,
  options: { explainFind?: (collection: string, query: DocumentQuery) => Promise<QueryPlan> } = {},
): void =>
  describe.each([
    ['documents', {}],
    ['typed columns', { columns: COLUMNS }],
  ])(`ReadModelStore contract: ${adapterName}, %s`, (_layout, columns) => {
    let store: ReadModelStore;
    let name: string;
    beforeEach(async () => {
      store = await open();
      name = freshName();
      await store.ensureCollection({
        name,
        indexes: [['merchantId', 'createdAt'], ['createdAt']],
        ...columns,
      });
    });

    it('reads a document back as it was put, whatever its fields and their types', async () => {
      const documents = [
        // Every listed field of its listed type, and fields no column holds.
        { merchantId: 'm1', createdAt: '2026-01-01', paid: false, amountMinor: 2 ** 53 - 1 },
        { view: { id: 'p2', tags: ['a', 1, null] }, paid: true, amountMinor: 0.5, note: '' },
        // Listed fields of other types, null, or absent.
        { merchantId: null, createdAt: 7, paid: 'yes', amountMinor: [1], extra: { a: null } },
        {},
      ];
      await store.commit(
        documents.map((document, index) => ({
          kind: 'put',
          collection: name,
          id: `p${index}`,
          document,
        })),
        null,
      );
      for (const [index, document] of documents.entries())
        await expect(store.get(name, `p${index}`)).resolves.toStrictEqual(document);
      const many = await store.getMany(name, ['p0', 'p1', 'p2', 'p3']);
      expect([...many.values()]).toStrictEqual(documents);
      const found = await store.find(name, {
        where: { merchantId: 'm1', paid: false },
        range: null,
        orderBy: { field: 'createdAt', direction: 'asc' },
        offset: 0,
        limit: 10,
      });
      expect(found).toStrictEqual({ documents: [documents[0]], totalCount: 1 });
    });
    afterEach(async () => {
      await store.dropCollection(name);
      await store.close();
    });
    const put = (id: string, merchantId: string, createdAt: string, paid: boolean) =>
      ({
        kind: 'put',
        collection: name,
        id,
        document: { view: { id }, merchantId, createdAt, paid, amountMinor: Number(id.slice(1)) },
      }) as const;

    it('gets null for a missing document and the last put otherwise', async () => {
      await expect(store.get(name, 'nope')).resolves.toBeNull();
      await store.commit(
        [put('p1', 'm1', '2026-01-01', true), put('p1', 'm2', '2026-01-02', false)],
        null,
      );
      await expect(store.get(name, 'p1')).resolves.toMatchObject({ merchantId: 'm2', paid: false });
      await store.commit([{ kind: 'delete', collection: name, id: 'p1' }], null);
      await expect(store.get(name, 'p1')).resolves.toBeNull();
    });

    it('finds a document re-put with its indexed fields kept or changed by its new values', async () => {
      await store.commit(
        [put('p1', 'm1', '2026-01-01', true), put('p2', 'm1', '2026-01-02', true)],
        null,
      );
      // p1 keeps its indexed fields and changes the rest; p2 moves to another merchant.
      const kept = {
        ...put('p1', 'm1', '2026-01-01', true),
        document: { ...put('p1', 'm1', '2026-01-01', true).document, amountMinor: 99 },
      };
      await store.commit([kept, put('p2', 'm2', '2026-01-05', false)], null);
      const byMerchant = async (merchantId: string) =>
        (
          await store.find(name, {
            where: { merchantId },
            range: null,
            orderBy: { field: 'createdAt', direction: 'asc' },
            offset: 0,
            limit: 10,
          })
        ).documents.map((document) => [document['view'], document['amountMinor']]);
      await expect(byMerchant('m1')).resolves.toEqual([[{ id: 'p1' }, 99]]);
      await expect(byMerchant('m2')).resolves.toEqual([[{ id: 'p2' }, 2]]);
    });

    it('puts a document said to keep its indexed fields: inserted if missing, else rewritten', async () => {
      const kept = (id: string, amountMinor: number) => {
        const change = put(id, 'm1', '2026-01-01', true);
        return {
          ...change,
          document: { ...change.document, amountMinor },
          indexedFieldsKept: true,
        } as const;
      };
      await store.commit([kept('p1', 5)], null);
      await store.commit([kept('p1', 7), kept('p2', 8)], null);
      await expect(store.get(name, 'p1')).resolves.toMatchObject({ amountMinor: 7 });
      const found = await store.find(name, {
        where: { merchantId: 'm1' },
        range: { field: 'createdAt', from: '2026-01-01', to: '2026-01-02' },
        orderBy: { field: 'createdAt', direction: 'asc' },
        offset: 0,
        limit: 10,
      });
      expect(found.documents.map((document) => document['amountMinor'])).toEqual([7, 8]);
      expect(found.totalCount).toBe(2);
    });

    it('finds by literal equality and a half-open range, sorted, paged and counted', async () => {
      const changes = [
        put('p1', 'm1', '2026-01-01', true),
        put('p2', 'm1', '2026-01-02', false),
        put('p3', 'm1', '2026-01-03', true),
        put('p4', 'm2', '2026-01-04', true),
      ];
      await store.commit(changes, null);
      const page = await store.find(name, {
        where: { merchantId: 'm1', paid: true },
        range: null,
        orderBy: { field: 'createdAt', direction: 'desc' },
        offset: 0,
        limit: 10,
      });
      expect(page.documents.map((document) => document['view'])).toEqual([
        { id: 'p3' },
        { id: 'p1' },
      ]);
      expect(page.totalCount).toBe(2);
      const ranged = await store.find(name, {
        where: {},
        range: { field: 'createdAt', from: '2026-01-02', to: '2026-01-04' },
        orderBy: { field: 'createdAt', direction: 'asc' },
        offset: 1,
        limit: 1,
      });
      expect(ranged).toEqual({
        documents: [expect.objectContaining({ merchantId: 'm1', createdAt: '2026-01-03' })],
        totalCount: 2,
      });
      const numeric = await store.find(name, {
        where: { amountMinor: 4 },
        range: null,
        orderBy: { field: 'createdAt', direction: 'asc' },
        offset: 0,
        limit: 5,
      });
      expect(numeric.totalCount).toBe(1);
    });

    it('treats a value that looks like an operator as a literal', async () => {
      await store.commit([put('p1', 'm1', '2026-01-01', true)], null);
      const found = await store.find(name, {
        where: { merchantId: '{"$ne":""}' },
        range: null,
        orderBy: { field: 'createdAt', direction: 'asc' },
        offset: 0,
        limit: 5,
      });
      expect(found.totalCount).toBe(0);
    });

    it('breaks sort ties by id so that pages never overlap', async () => {
      await store.commit(
        ['a', 'b', 'c', 'd'].map((letter) =>
          put(`p${letter.charCodeAt(0)}`, 'm1', '2026-01-01', true),
        ),
        null,
      );
      const ids: unknown[] = [];
      for (let offset = 0; offset < 4; offset += 2) {
        const page = await store.find(name, {
          where: {},
          range: null,
          orderBy: { field: 'createdAt', direction: 'desc' },
          offset,
          limit: 2,
        });
        ids.push(...page.documents.map((document) => document['view']));
      }
      expect(new Set(ids.map((id) => JSON.stringify(id))).size).toBe(4);
    });

    it('gets many documents by id in one call: the last put of each, missing ones left out', async () => {
      await expect(store.getMany(name, [])).resolves.toEqual(new Map());
      await store.commit(
        [
          put('p1', 'm1', '2026-01-01', true),
          put('p2', 'm1', '2026-01-02', true),
          put('p2', 'm2', '2026-01-03', false),
        ],
        null,
      );
      const found = await store.getMany(name, ['p2', 'nope', 'p1', 'p2']);
      expect([...found.keys()].sort()).toEqual(['p1', 'p2']);
      expect(found.get('p1')).toEqual(await store.get(name, 'p1'));
      expect(found.get('p2')).toMatchObject({ merchantId: 'm2', paid: false });
    });

    it('pages by keyset in both directions: each page starts after the last one, ties by id', async () => {
      // Two documents per day: pages of 3 cut through a tie, which the id settles.
      const days = ['01', '01', '02', '02', '03', '03', '04'];
      await store.commit(
        days.map((day, index) =>
          put(`p${index + 1}`, index === 6 ? 'm2' : 'm1', `2026-01-${day}`, true),
        ),
        null,
      );
      const walk = async (direction: 'asc' | 'desc', where: Record<string, string>) => {
        const seen: string[] = [];
        let after: { value: string; id: string } | null = null;
        for (let pageCount = 0; pageCount < 10; pageCount += 1) {
          const page = await store.findAfter(name, {
            where,
            range: { field: 'createdAt', from: '2026-01-01', to: null },
            orderBy: { field: 'createdAt', direction },
            after,
            limit: 3,
          });
          const ids = page.map((document) => (document['view'] as { id: string }).id);
          seen.push(...ids);
          const last = page[page.length - 1];
          if (page.length < 3 || last === undefined) break;
          after = { value: last['createdAt'] as string, id: ids[ids.length - 1] ?? '' };
        }
        return seen;
      };
      await expect(walk('asc', { merchantId: 'm1' })).resolves.toEqual([
        'p1',
        'p2',
        'p3',
        'p4',
        'p5',
        'p6',
      ]);
      await expect(walk('desc', {})).resolves.toEqual(['p7', 'p6', 'p5', 'p4', 'p3', 'p2', 'p1']);
      const afterTie = await store.findAfter(name, {
        where: {},
        range: null,
        orderBy: { field: 'createdAt', direction: 'asc' },
        after: { value: '2026-01-02', id: 'p3' },
        limit: 2,
      });
      expect(afterTie.map((document) => document['view'])).toEqual([{ id: 'p4' }, { id: 'p5' }]);
    });

    it('saves the checkpoint with the changes, beyond 2^53, and forgets it on delete', async () => {
      const checkpointName = `${name}_checkpoint`;
      await expect(store.readCheckpoint(checkpointName)).resolves.toBeNull();
      const position = 2n ** 60n + 3n;
      await store.commit([put('p1', 'm1', '2026-01-01', true)], {
        name: checkpointName,
        position,
        occurredAt: '2026-01-01T00:00:00.000Z',
      });
      await expect(store.readCheckpoint(checkpointName)).resolves.toEqual({
        name: checkpointName,
        position,
        occurredAt: '2026-01-01T00:00:00.000Z',
      });
      await store.deleteCheckpoint(checkpointName);
      await expect(store.readCheckpoint(checkpointName)).resolves.toBeNull();
    });

    it('ensures a collection again without error or loss, with and without indexes', async () => {
      await store.commit([put('p1', 'm1', '2026-01-01', true)], null);
      await store.ensureCollection({ name, indexes: [['merchantId', 'createdAt'], ['createdAt']] });
      await store.ensureCollection({ name, indexes: [] });
      await expect(store.get(name, 'p1')).resolves.toMatchObject({ merchantId: 'm1' });
    });

    const { explainFind } = options;
    if (explainFind !== undefined)
      it('reads each list page along an index, never sorting the matches in memory', async () => {
        await store.commit(
          ['1', '2', '3', '4', '5', '6'].map((day) =>
            put(`p${day}`, `m${Number(day) % 2}`, `2026-01-0${day}`, true),
          ),
          null,
        );
        const list = (query: Partial<DocumentQuery>): DocumentQuery => ({
          where: {},
          range: null,
          orderBy: { field: 'createdAt', direction: 'desc' },
          offset: 2,
          limit: 2,
          ...query,
        });
        const queries = [
          list({ where: { merchantId: 'm1' } }),
          list({
            where: { merchantId: 'm1', paid: true },
            orderBy: { field: 'createdAt', direction: 'asc' },
          }),
          list({ range: { field: 'createdAt', from: '2026-01-02', to: null } }),
          list({}),
        ];
        for (const query of queries)
          await expect(explainFind(name, query)).resolves.toEqual({
            usesIndex: true,
            sortsInMemory: false,
          });
      });

    it('drops a collection (and dropping a missing one is fine)', async () => {
      await store.commit([put('p1', 'm1', '2026-01-01', true)], null);
      await store.dropCollection(name);
      await store.dropCollection(name);
      await store.ensureCollection({ name, indexes: [] });
      await expect(store.get(name, 'p1')).resolves.toBeNull();
    });
  });
