import { createMemoryRateLimitStore } from '../adapters/rate-limits/memory.rate-limit-store';
import { createMongoRateLimitStore } from '../adapters/rate-limits/mongodb.rate-limit-store';
import type { StoreFaultListener } from '../adapters/rate-limits/rate-limiter-counter';
import { createSqliteRateLimitStore } from '../adapters/rate-limits/sqlite.rate-limit-store';
import type { RateLimitStore } from '../domain/ports/rate-limit-store.port';
import type { Logger } from 'winston';
import type { RateLimitStoreSetting } from './governance-config';

const MONGODB_DATABASE = 'ledger_rate_limits';

/** The one seam that picks where the rate-limit counters live (RATE_LIMIT_STORE). */
export const openRateLimitStore = (
  setting: RateLimitStoreSetting,
  logger: Logger,
): Promise<RateLimitStore> => {
  const listener: StoreFaultListener = {
    onFault: (counter, error) =>
      logger.warn('rate_limit_store_failed', {
        store: setting.kind,
        counter,
        error: String(error),
        fallback: 'in-memory counters of this instance until the store answers',
      }),
    onRecovered: (counter) =>
      logger.info('rate_limit_store_recovered', { store: setting.kind, counter }),
  };
  switch (setting.kind) {
    case 'memory':
      return Promise.resolve(createMemoryRateLimitStore());
    case 'sqlite':
      return Promise.resolve(
        createSqliteRateLimitStore({ path: setting.path, listener, nowMs: Date.now }),
      );
    case 'mongodb':
      return createMongoRateLimitStore({
        url: setting.url,
        databaseName: MONGODB_DATABASE,
        listener,
        nowMs: Date.now,
      });
  }
};
