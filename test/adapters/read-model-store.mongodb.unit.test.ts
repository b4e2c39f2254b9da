import { MongoServerError, MongoServerSelectionError } from 'mongodb';
import {
  createMongoReadModelStore,
  mongoClientOf,
  mongoReadModelStoreOn,
  readModelDatabaseOf,
} from '../../adapters/readmodels/mongodb.read-model-store';
import { ignoreNamespaceExists } from '../../adapters/readmodels/mongodb-errors';
import {
  filterOf,
  indexesOf,
  keysetFilterOf,
  sortOf,
} from '../../adapters/readmodels/mongodb-queries';
import { UnavailableError } from '../../domain/ports/event-store.port';
import type { DocumentQuery, ReadModelStore } from '../../domain/ports/read-model-store.port';
import { freePort } from '../support/service-process';

/** A loopback port nothing listens on: connections are refused at once. */
const closedPort = freePort;

const DATABASE = 'ledger_read_models_unit';
const query: DocumentQuery = {
  where: { merchantId: 'm1' },
  range: null,
  orderBy: { field: 'createdAt', direction: 'desc' },
  offset: 0,
  limit: 10,
};

describe('the MongoDB read-model store without a server', () => {
  const unreachableUrl = async () =>
    `mongodb://127.0.0.1:${await closedPort()}/?directConnection=true`;
  const options = { databaseName: DATABASE, serverSelectionTimeoutMs: 100 };

  it('refuses to start with UnavailableError', async () => {
    const url = await unreachableUrl();
    await expect(createMongoReadModelStore({ url, ...options })).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });

  // A client per call: a client connects on its first call, and once that fails it answers later
  // calls with MongoTopologyClosedError. The first call meets server selection failing, which is
  // what every call meets on a connected client once no primary can be reached.
  const calls: [string, (store: ReadModelStore) => Promise<unknown>][] = [
    ['ensureCollection', (store) => store.ensureCollection({ name: 'things', indexes: [['a']] })],
    // Without indexes it only creates the collection: that error was once swallowed.
    [
      'ensureCollection without indexes',
      (store) => store.ensureCollection({ name: 'things', indexes: [] }),
    ],
    ['dropCollection', (store) => store.dropCollection('things')],
    ['get', (store) => store.get('things', 'a')],
    ['getMany', (store) => store.getMany('things', ['a', 'b'])],
    ['find', (store) => store.find('things', query)],
    [
      'findAfter',
      (store) => store.findAfter('things', { ...query, after: { value: 'x', id: 'a' } }),
    ],
    ['commit', (store) => store.commit([{ kind: 'delete', collection: 'things', id: 'a' }], null)],
    [
      'commit of a checkpoint alone',
      (store) => store.commit([], { name: 'c', position: 1n, occurredAt: '2026-01-01' }),
    ],
    ['readCheckpoint', (store) => store.readCheckpoint('c')],
    ['deleteCheckpoint', (store) => store.deleteCheckpoint('c')],
  ];
  it.each(calls)('%s throws UnavailableError caused by server selection', async (_, call) => {
    const url = await unreachableUrl();
    const store = mongoReadModelStoreOn(mongoClientOf({ url, ...options }), options);
    try {
      const failure: unknown = await call(store).then(
        () => new Error('resolved'),
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(UnavailableError);
      expect((failure as Error).cause).toBeInstanceOf(MongoServerSelectionError);
    } finally {
      await store.close();
    }
  });

  it('still throws a bug as a bug: a bad collection name is not an outage', async () => {
    const store = mongoReadModelStoreOn(
      mongoClientOf({ url: await unreachableUrl(), ...options }),
      options,
    );
    try {
      await expect(store.get('x; y', 'a')).rejects.toThrow('bad collection name');
      await expect(store.get('x; y', 'a')).rejects.not.toBeInstanceOf(UnavailableError);
    } finally {
      await store.close();
    }
  });
});

describe('the MongoDB read-model store: concerns, indexes, sorts', () => {
  it('reads and writes with majority concerns, whatever the URL asks for', async () => {
    const url = `mongodb://127.0.0.1:${await closedPort()}/?w=1&readConcernLevel=local`;
    const client = mongoClientOf({ url, databaseName: DATABASE });
    try {
      const collection = readModelDatabaseOf(client, DATABASE).collection('rm_things');
      expect(collection.writeConcern).toMatchObject({ w: 'majority', wtimeoutMS: 10_000 });
      expect(collection.readConcern?.level).toBe('majority');
    } finally {
      await client.close();
    }
  });

  it('ignores only NamespaceExists (48) when creating a collection', () => {
    const exists = new MongoServerError({ ok: 0, code: 48, codeName: 'NamespaceExists' });
    const unauthorized = new MongoServerError({ ok: 0, code: 13, codeName: 'Unauthorized' });
    expect(() => ignoreNamespaceExists(exists)).not.toThrow();
    expect(() => ignoreNamespaceExists(unauthorized)).toThrow(unauthorized);
    expect(() => ignoreNamespaceExists(new Error('socket hang up'))).toThrow('socket hang up');
  });

  it('indexes each field list with _id last, keys in this order', () => {
    const indexes = indexesOf({
      name: 'payments',
      indexes: [['merchantId', 'createdAt'], ['createdAt']],
    });
    expect(indexes.map((index) => Object.entries(index.key))).toEqual([
      [
        ['body.merchantId', 1],
        ['body.createdAt', 1],
        ['_id', 1],
      ],
      [
        ['body.createdAt', 1],
        ['_id', 1],
      ],
    ]);
    expect(() => indexesOf({ name: 'payments', indexes: [[]] })).toThrow('empty index');
  });

  it('sorts a list by the keys its index ends with, both in the same direction', () => {
    const [index] = indexesOf({ name: 'payments', indexes: [['merchantId', 'createdAt']] });
    const tail = Object.keys(index?.key ?? {}).slice(1);
    for (const direction of ['asc', 'desc'] as const) {
      const sort = sortOf({ ...query, orderBy: { field: 'createdAt', direction } });
      expect(Object.keys(sort)).toEqual(tail);
      expect(new Set(Object.values(sort))).toEqual(new Set([direction === 'asc' ? 1 : -1]));
    }
    expect(filterOf(query)).toEqual({ 'body.merchantId': { $eq: 'm1' } });
  });

  it('starts a keyset page past the last (order value, id) in the order, as literals', () => {
    const keyset = { ...query, after: null };
    expect(keysetFilterOf(keyset)).toEqual(filterOf(query));
    const after = { value: '{"$ne":""}', id: 'p3' };
    expect(keysetFilterOf({ ...keyset, after })).toEqual({
      $and: [
        { 'body.merchantId': { $eq: 'm1' } },
        {
          $or: [
            { 'body.createdAt': { $lt: '{"$ne":""}' } },
            { 'body.createdAt': { $eq: '{"$ne":""}' }, _id: { $lt: 'p3' } },
          ],
        },
      ],
    });
  });
});
