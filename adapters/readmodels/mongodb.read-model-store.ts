import { setTimeout as sleep } from 'node:timers/promises';
import {
  MongoClient,
  ReadConcern,
  type Db,
  type TransactionOptions,
  type WriteConcernSettings,
} from 'mongodb';
import { UnavailableError, type JsonObject } from '../../domain/ports/event-store.port';
import type {
  Checkpoint,
  DocumentChange,
  DocumentQuery,
  FoundDocuments,
  ReadModelStore,
} from '../../domain/ports/read-model-store.port';
import { guarded, ignoreNamespaceExists } from './mongodb-errors';
import {
  CHECKPOINTS_COLLECTION,
  filterOf,
  indexesOf,
  keysetFilterOf,
  sortOf,
  storedCollectionOf,
  writesOf,
  type StoredDocument,
} from './mongodb-queries';
import { runTransaction, type TransactionClock } from './mongodb-transaction';

/**
 * Read models in MongoDB (5.0 or later, a replica set: a single-node one is enough). commit() runs
 * in a transaction; find() reads a page and its count from one snapshot. Every call is bounded in
 * time, and an outage during any of them is thrown as UnavailableError (see mongodb-errors.ts).
 */
type StoredCheckpoint = { _id: string; position: string; occurredAt: string };

type MongoReadModelStoreOptions = {
  url: string;
  databaseName: string;
  /** How long a call waits for a usable primary before UnavailableError (default 5 s). */
  serverSelectionTimeoutMs?: number;
  /** How long commit() retries transient transaction errors before UnavailableError (10 s). */
  transactionTimeoutMs?: number;
};

/** Bounds on every call, so that an outage reaches the caller within seconds, never minutes. */
const LIMITS = {
  serverSelectionTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  /** A server that holds a connection open without answering. */
  socketTimeoutMs: 30_000,
  writeConcernTimeoutMs: 10_000,
  commitTimeMaxMs: 10_000,
  transactionTimeoutMs: 10_000,
  retryPauseMaxMs: 500,
  /** Ids per query of getMany. */
  getManyIdCountMax: 10_000,
};

/** Acknowledged by a majority, so that a failover cannot roll an acknowledged write back. */
const MAJORITY: WriteConcernSettings = { w: 'majority', wtimeoutMS: LIMITS.writeConcernTimeoutMs };

const TRANSACTION: TransactionOptions = {
  readConcern: { level: 'majority' },
  writeConcern: MAJORITY,
  maxCommitTimeMS: LIMITS.commitTimeMaxMs,
};

/** Jittered exponential backoff between transaction attempts, as withTransaction does. */
const SYSTEM_CLOCK: TransactionClock = {
  nowMs: () => performance.now(),
  pause: (attempt) => sleep(Math.random() * Math.min(5 * 1.5 ** attempt, LIMITS.retryPauseMaxMs)),
};

export const mongoClientOf = (options: MongoReadModelStoreOptions): MongoClient =>
  new MongoClient(options.url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? LIMITS.serverSelectionTimeoutMs,
    connectTimeoutMS: LIMITS.connectTimeoutMs,
    socketTimeoutMS: LIMITS.socketTimeoutMs,
  });

/**
 * Majority read and write concerns, set on the database: they override the URL's options and the
 * cluster's defaults, so neither can turn them into w:1 or a read of data a failover rolls back.
 */
export const readModelDatabaseOf = (client: MongoClient, databaseName: string): Db =>
  client.db(databaseName, { readConcern: new ReadConcern('majority'), writeConcern: MAJORITY });

/** The store over a client; the driver connects on the first call. */
export const mongoReadModelStoreOn = (
  client: MongoClient,
  options: Pick<MongoReadModelStoreOptions, 'databaseName' | 'transactionTimeoutMs'>,
): ReadModelStore => {
  const database = readModelDatabaseOf(client, options.databaseName);
  const documents = (name: string) => database.collection<StoredDocument>(storedCollectionOf(name));
  const checkpoints = database.collection<StoredCheckpoint>(CHECKPOINTS_COLLECTION);
  const timeoutMs = options.transactionTimeoutMs ?? LIMITS.transactionTimeoutMs;

  const commit = async (changes: readonly DocumentChange[], checkpoint: Checkpoint | null) => {
    const session = client.startSession();
    const work = async (): Promise<void> => {
      for (const [name, operations] of writesOf(changes))
        await documents(name).bulkWrite(operations, { session, ordered: true });
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
    };
    try {
      await runTransaction(session, work, {
        transaction: TRANSACTION,
        timeoutMs,
        clock: SYSTEM_CLOCK,
      });
    } finally {
      await session.endSession();
    }
  };

  const find = async (collection: string, query: DocumentQuery): Promise<FoundDocuments> => {
    // One snapshot for the page and its count, so a commit between the two reads cannot make
    // total_count disagree with the page. The database's 'majority' would replace the session's
    // snapshot read concern, hence 'snapshot' named on each read; the count waits for the page,
    // whose answer fixes the snapshot's time.
    const session = client.startSession({ snapshot: true });
    const inSnapshot = () => ({ session, readConcern: { level: 'snapshot' as const } });
    try {
      const target = documents(collection);
      const filter = filterOf(query);
      const page = await target
        .find(filter, inSnapshot())
        .sort(sortOf(query))
        .skip(query.offset)
        .limit(query.limit)
        .toArray();
      const totalCount = await target.countDocuments(filter, inSnapshot());
      return { documents: page.map((stored) => stored.body), totalCount };
    } finally {
      await session.endSession();
    }
  };

  return {
    ensureCollection: (spec) =>
      guarded(async () => {
        await database.createCollection(storedCollectionOf(spec.name)).catch(ignoreNamespaceExists);
        const indexes = indexesOf(spec);
        if (indexes.length > 0) await documents(spec.name).createIndexes(indexes);
      }),
    // Driver 7 answers false, not an error, for a collection that does not exist.
    dropCollection: (name) =>
      guarded(async () => {
        await documents(name).drop();
      }),
    get: (collection, id) =>
      guarded(
        async () => (await documents(collection).findOne({ _id: { $eq: id } }))?.body ?? null,
      ),
    getMany: (collection, ids) =>
      guarded(async () => {
        const found = new Map<string, JsonObject>();
        // A catch-up batch can name hundreds of thousands of users: chunks keep each query's
        // $in list far below the 16 MB command limit.
        for (let first = 0; first < ids.length; first += LIMITS.getManyIdCountMax) {
          const chunk = ids.slice(first, first + LIMITS.getManyIdCountMax);
          const stored = await documents(collection)
            .find({ _id: { $in: chunk } })
            .toArray();
          for (const document of stored) found.set(document._id, document.body);
        }
        return found;
      }),
    find: (collection, query) => guarded(() => find(collection, query)),
    findAfter: (collection, query) =>
      guarded(async () => {
        const page = await documents(collection)
          .find(keysetFilterOf(query))
          .sort(sortOf(query))
          .limit(query.limit)
          .toArray();
        return page.map((stored) => stored.body);
      }),
    commit: (changes, checkpoint) => guarded(() => commit(changes, checkpoint)),
    readCheckpoint: (name) =>
      guarded(async () => {
        const found = await checkpoints.findOne({ _id: { $eq: name } });
        if (found === null) return null;
        return { name, position: BigInt(found.position), occurredAt: found.occurredAt };
      }),
    deleteCheckpoint: (name) =>
      guarded(async () => {
        await checkpoints.deleteOne({ _id: { $eq: name } });
      }),
    close: () => client.close(),
  };
};

/** Connects first, so that an unreachable or misconfigured URL stops the start with the reason. */
export const createMongoReadModelStore = async (
  options: MongoReadModelStoreOptions,
): Promise<ReadModelStore> => {
  const client = mongoClientOf(options);
  await client.connect().catch((error: unknown) => {
    throw new UnavailableError('MongoDB read-model store unreachable', { cause: error });
  });
  return mongoReadModelStoreOn(client, options);
};
