import { MongoClient, type AnyBulkWriteOperation, type Document, type Filter } from 'mongodb';
import { assert } from '../../domain/assert';
import { UnavailableError, type JsonObject } from '../../domain/ports/event-store.port';
import {
  IDENTIFIER_PATTERN,
  type Checkpoint,
  type DocumentChange,
  type DocumentQuery,
  type FieldValue,
  type ReadModelStore,
} from '../../domain/ports/read-model-store.port';

/**
 * Read models in MongoDB: each document is stored as { _id, body }, so a projection's field can
 * never collide with _id, and indexes are declared on body.<field>. commit() runs in a session
 * transaction, which needs a replica set (a single-node one is enough).
 */
type StoredDocument = { _id: string; body: JsonObject };
type StoredCheckpoint = { _id: string; position: string; occurredAt: string };

const CHECKPOINTS = 'rm_checkpoints';

const collectionOf = (name: string): string => {
  assert(IDENTIFIER_PATTERN.test(name), `read model: bad collection name ${name}`);
  return `rm_${name}`;
};

const pathOf = (field: string): string => {
  assert(IDENTIFIER_PATTERN.test(field), `read model: bad field name ${field}`);
  return `body.${field}`;
};

/** Defence in depth: the port's types already rule out objects, so an operator cannot get in. */
const literal = (value: FieldValue): FieldValue => {
  assert(['string', 'number', 'boolean'].includes(typeof value), 'read model: non-literal value');
  return value;
};

const filterOf = (query: DocumentQuery): Filter<StoredDocument> => {
  const filter: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(query.where))
    filter[pathOf(field)] = { $eq: literal(value) };
  const { range } = query;
  if (range !== null) {
    const bounds: Record<string, FieldValue> = {};
    if (range.from !== null) bounds['$gte'] = literal(range.from);
    if (range.to !== null) bounds['$lt'] = literal(range.to);
    const path = pathOf(range.field);
    filter[path] = { ...(filter[path] as object | undefined), ...bounds };
  }
  return filter as Filter<StoredDocument>;
};

const unavailable = (error: unknown): never => {
  throw new UnavailableError('mongodb read-model store unreachable', { cause: error });
};

export const createMongoReadModelStore = async (options: {
  url: string;
  databaseName: string;
  serverSelectionTimeoutMs?: number;
}): Promise<ReadModelStore> => {
  const client = new MongoClient(options.url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5000,
  });
  await client.connect().catch(unavailable);
  const database = client.db(options.databaseName);
  const documents = (name: string) => database.collection<StoredDocument>(collectionOf(name));
  const checkpoints = database.collection<StoredCheckpoint>(CHECKPOINTS);

  const groupByCollection = (
    changes: readonly DocumentChange[],
  ): Map<string, AnyBulkWriteOperation<StoredDocument>[]> => {
    const groups = new Map<string, AnyBulkWriteOperation<StoredDocument>[]>();
    for (const change of changes) {
      const operations = groups.get(change.collection) ?? [];
      if (change.kind === 'put') {
        const replacement = { _id: change.id, body: change.document };
        operations.push({ replaceOne: { filter: { _id: change.id }, replacement, upsert: true } });
      } else {
        operations.push({ deleteOne: { filter: { _id: change.id } } });
      }
      groups.set(change.collection, operations);
    }
    return groups;
  };

  return {
    ensureCollection: async (spec) => {
      const collection = documents(spec.name);
      for (const fields of spec.indexes) {
        const keys: Document = {};
        for (const field of fields) keys[pathOf(field)] = 1;
        await collection.createIndex(keys);
      }
      if (spec.indexes.length === 0)
        await database.createCollection(collectionOf(spec.name)).catch(() => undefined);
    },
    dropCollection: async (name) => {
      await documents(name)
        .drop()
        .catch((error: unknown) => {
          // NamespaceNotFound (26): dropping a missing collection is not an error for this port.
          if ((error as { code?: number }).code !== 26) throw error;
        });
    },
    get: async (collection, id) => {
      const found = await documents(collection).findOne({ _id: { $eq: id } });
      return found === null ? null : found.body;
    },
    find: async (collection, query) => {
      const filter = filterOf(query);
      const direction = query.orderBy.direction === 'asc' ? 1 : -1;
      const sort: Document = { [pathOf(query.orderBy.field)]: direction, _id: direction };
      const target = documents(collection);
      const [page, totalCount] = await Promise.all([
        target.find(filter).sort(sort).skip(query.offset).limit(query.limit).toArray(),
        target.countDocuments(filter),
      ]);
      return { documents: page.map((stored) => stored.body), totalCount };
    },
    commit: async (changes, checkpoint) => {
      const session = client.startSession();
      try {
        await session.withTransaction(async () => {
          for (const [name, operations] of groupByCollection(changes)) {
            await documents(name).bulkWrite(operations, { session, ordered: true });
          }
          if (checkpoint === null) return;
          const stored = {
            position: checkpoint.position.toString(),
            occurredAt: checkpoint.occurredAt,
          };
          await checkpoints.updateOne(
            { _id: checkpoint.name },
            { $set: stored },
            { upsert: true, session },
          );
        });
      } finally {
        await session.endSession();
      }
    },
    readCheckpoint: async (name) => {
      const found = await checkpoints.findOne({ _id: { $eq: name } });
      return found === null
        ? null
        : ({
            name,
            position: BigInt(found.position),
            occurredAt: found.occurredAt,
          } satisfies Checkpoint);
    },
    deleteCheckpoint: async (name) => {
      await checkpoints.deleteOne({ _id: { $eq: name } });
    },
    close: () => client.close(),
  };
};
