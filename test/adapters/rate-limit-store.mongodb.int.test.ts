import { createMongoRateLimitStore } from '../../adapters/rate-limits/mongodb.rate-limit-store';
import { rateLimitStoreContract } from './rate-limit-store.contract';

/** Runs against a real MongoDB (docs/operations.md says how to start one with compose). */
const url = process.env['MONGODB_URL'];
const SKIPPED = 'MongoDB rate-limit store contract suite SKIPPED: MONGODB_URL not set';

if (url === undefined || url === '') {
  process.stdout.write(`${SKIPPED}\n`);
  it.skip(SKIPPED, () => undefined);
} else {
  rateLimitStoreContract('mongodb', {
    open: (listener) =>
      createMongoRateLimitStore({
        url,
        databaseName: 'ledger_rate_limits_contract',
        listener,
        nowMs: Date.now,
      }),
    shared: true,
  });
}
