import { MongoClient } from 'mongodb';
import { RateLimiterMongo } from 'rate-limiter-flexible';
import type { RateLimitStore } from '../../domain/ports/rate-limit-store.port';
import { insuredCounterOf, memoryLimiterOf, type StoreFaultListener } from './rate-limiter-counter';

const COLLECTION_NAME = 'rate_limits';
const SERVER_SELECTION_TIMEOUT_MS = 2000;

/**
 * Counters in one MongoDB collection that every instance shares (rate-limiter-flexible's
 * RateLimiterMongo: one atomic findOneAndUpdate per request; a TTL index drops ended windows).
 * The indexes are made before the store is returned, so that a server that cannot be reached
 * stops the start with a clear error; after that, a fault is absorbed by the insurance limiter.
 */
export const createMongoRateLimitStore = async (options: {
  url: string;
  databaseName: string;
  listener: StoreFaultListener;
  /** Wall clock in epoch ms: when the store may be tried again after a fault. */
  nowMs: () => number;
}): Promise<RateLimitStore> => {
  const client = new MongoClient(options.url, {
    serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
  });
  try {
    const collection = client.db(options.databaseName).collection(COLLECTION_NAME);
    await collection.createIndex({ expire: -1 }, { expireAfterSeconds: 0 });
    await collection.createIndex({ key: 1 }, { unique: true });
  } catch (error: unknown) {
    await client.close();
    throw error;
  }
  return {
    counter: (name, policy) =>
      insuredCounterOf(
        name,
        new RateLimiterMongo({
          storeClient: client,
          dbName: options.databaseName,
          tableName: COLLECTION_NAME,
          disableIndexesCreation: true,
          keyPrefix: name,
          points: policy.requests,
          duration: policy.windowS,
        }),
        memoryLimiterOf(name, policy),
        options,
      ),
    close: () => client.close(),
  };
};
