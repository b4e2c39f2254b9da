import { RateLimiterSQLite } from 'rate-limiter-flexible';
import type { RateLimitStore } from '../../domain/ports/rate-limit-store.port';
import { ensureSchema, openSqliteDatabase } from '../sqlite/open-database';
import { insuredCounterOf, memoryLimiterOf, type StoreFaultListener } from './rate-limiter-counter';

const TABLE_NAME = 'rate_limits';
const BUSY_TIMEOUT_MS = 1000;
const PURGE_INTERVAL_MS = 5 * 60_000;
const PURGE_AFTER_EXPIRY_MS = 60 * 60_000;

/**
 * Counters in one SQLite file that every instance on this host opens (rate-limiter-flexible's
 * RateLimiterSQLite over better-sqlite3): each request is one short write transaction. The
 * counters are not money: the file is WAL with synchronous=NORMAL (no fsync per request; a power
 * cut may forget the last counts) and a short busy timeout, beyond which the insurance limiter
 * answers.
 */
export const createSqliteRateLimitStore = (options: {
  path: string;
  listener: StoreFaultListener;
  /** Wall clock in epoch ms: when the store may be tried again after a fault. */
  nowMs: () => number;
}): RateLimitStore => {
  const db = openSqliteDatabase(options.path);
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  ensureSchema(db, TABLE_NAME, 1, (database) =>
    // The table rate-limiter-flexible reads and writes, created here so that it exists before
    // the first request (the library would create it asynchronously).
    database.exec(
      `CREATE TABLE IF NOT EXISTS ${TABLE_NAME} ` +
        '(key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER)',
    ),
  );
  const purge = db.prepare(`DELETE FROM ${TABLE_NAME} WHERE expire < ?`);
  const purgeTimer = setInterval(() => {
    try {
      purge.run(Date.now() - PURGE_AFTER_EXPIRY_MS);
    } catch (error: unknown) {
      options.listener.onFault('purge', error);
    }
  }, PURGE_INTERVAL_MS);
  purgeTimer.unref();
  return {
    counter: (name, policy) =>
      insuredCounterOf(
        name,
        new RateLimiterSQLite({
          storeClient: db,
          storeType: 'better-sqlite3',
          tableName: TABLE_NAME,
          tableCreated: true,
          keyPrefix: name,
          points: policy.requests,
          duration: policy.windowS,
        }),
        memoryLimiterOf(name, policy),
        options,
      ),
    close: async () => {
      clearInterval(purgeTimer);
      db.close();
    },
  };
};
