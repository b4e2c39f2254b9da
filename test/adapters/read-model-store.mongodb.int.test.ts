import { MongoClient, type CommandStartedEvent, type Document } from 'mongodb';
import {
  createMongoReadModelStore,
  mongoClientOf,
  mongoReadModelStoreOn,
} from '../../adapters/readmodels/mongodb.read-model-store';
import {
  filterOf,
  sortOf,
  storedCollectionOf,
  type StoredDocument,
} from '../../adapters/readmodels/mongodb-queries';
import type { DocumentQuery } from '../../domain/ports/read-model-store.port';
import { readModelStoreContract, type QueryPlan } from './read-model-store.contract';

/** Runs against a real replica set: docs/operations.md says how to start one with compose. */
const url = process.env['MONGODB_URL'];
const SKIPPED =
  'MongoDB read-model store contract suite SKIPPED: MONGODB_URL not set (needs a replica set for transactions)';
const DATABASE = 'ledger_read_models_contract';

/** Every stage name of an explain() plan tree, classic or slot-based. */
const stagesOf = (plan: unknown): string[] => {
  if (Array.isArray(plan)) return plan.flatMap(stagesOf);
  if (typeof plan !== 'object' || plan === null) return [];
  return Object.entries(plan).flatMap(([key, value]) =>
    key === 'stage' && typeof value === 'string' ? [value] : stagesOf(value),
  );
};

const withClient = async <T>(work: (client: MongoClient) => Promise<T>): Promise<T> => {
  const client = mongoClientOf({ url: url ?? '', databaseName: DATABASE });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
};

/** The find() the store runs, explained by the server: IXSCAN and no blocking SORT is the goal. */
const explainFind = (collection: string, query: DocumentQuery): Promise<QueryPlan> =>
  withClient(async (client) => {
    const explained = await client
      .db(DATABASE)
      .collection<StoredDocument>(storedCollectionOf(collection))
      .find(filterOf(query))
      .sort(sortOf(query))
      .skip(query.offset)
      .limit(query.limit)
      .explain('queryPlanner');
    const stages = stagesOf((explained['queryPlanner'] as Document | undefined)?.['winningPlan']);
    return { usesIndex: stages.includes('IXSCAN'), sortsInMemory: stages.includes('SORT') };
  });

if (url === undefined || url === '') {
  process.stdout.write(`${SKIPPED}\n`);
  it.skip(SKIPPED, () => undefined);
} else {
  readModelStoreContract(
    'mongodb',
    () => createMongoReadModelStore({ url, databaseName: DATABASE }),
    { explainFind },
  );

  describe('the MongoDB read-model store on a replica set', () => {
    const commandsOf = async (work: (client: MongoClient) => Promise<void>) => {
      const started: CommandStartedEvent[] = [];
      // The store's own concerns are set on its database, whatever the client's options.
      const client = new MongoClient(url, { monitorCommands: true });
      client.on('commandStarted', (event) => started.push(event));
      try {
        await work(client);
      } finally {
        await client.close();
      }
      return (name: string) => started.filter((event) => event.commandName === name);
    };

    it('writes with w:majority and reads with majority or from one snapshot', async () => {
      const name = `contract_concerns_${Date.now()}`;
      const commands = await commandsOf(async (client) => {
        const store = mongoReadModelStoreOn(client, { databaseName: DATABASE });
        await store.ensureCollection({ name, indexes: [['owner', 'at']] });
        const document = { owner: 'o', at: '2026-01-01' };
        await store.commit([{ kind: 'put', collection: name, id: 'a', document }], {
          name: `${name}_checkpoint`,
          position: 1n,
          occurredAt: '2026-01-01T00:00:00.000Z',
        });
        await store.get(name, 'a');
        await store.readCheckpoint(`${name}_checkpoint`);
        await store.find(name, {
          where: { owner: 'o' },
          range: null,
          orderBy: { field: 'at', direction: 'asc' },
          offset: 0,
          limit: 10,
        });
        await store.deleteCheckpoint(`${name}_checkpoint`);
        await store.dropCollection(name);
      });
      for (const command of ['create', 'createIndexes', 'commitTransaction', 'delete', 'drop'])
        expect(commands(command)[0]?.command['writeConcern']).toMatchObject({ w: 'majority' });
      const [get, checkpoint, page] = commands('find').map((event) => event.command);
      const [count] = commands('aggregate').map((event) => event.command);
      expect(get?.['readConcern']).toMatchObject({ level: 'majority' });
      expect(checkpoint?.['readConcern']).toMatchObject({ level: 'majority' });
      // The page fixes the snapshot's time; the count reads at that time, in the same session.
      expect(page?.['readConcern']).toEqual({ level: 'snapshot' });
      expect(count?.['readConcern']).toMatchObject({ level: 'snapshot' });
      expect(count?.['readConcern']?.['atClusterTime']).toBeDefined();
      expect(count?.['lsid']).toEqual(page?.['lsid']);
    });

    it('builds each index with _id last', async () => {
      const name = `contract_indexes_${Date.now()}`;
      const store = await createMongoReadModelStore({ url, databaseName: DATABASE });
      try {
        await store.ensureCollection({ name, indexes: [['owner', 'at']] });
        const keys = await withClient(async (client) =>
          (await client.db(DATABASE).collection(storedCollectionOf(name)).indexes()).map((index) =>
            Object.keys(index.key),
          ),
        );
        expect(keys).toContainEqual(['body.owner', 'body.at', '_id']);
      } finally {
        await store.dropCollection(name);
        await store.close();
      }
    });
  });
}
