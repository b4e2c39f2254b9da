import { createMemoryRateLimitStore } from '../../adapters/rate-limits/memory.rate-limit-store';
import { rateLimitStoreContract } from './rate-limit-store.contract';

rateLimitStoreContract('memory', {
  open: () => Promise.resolve(createMemoryRateLimitStore()),
  shared: false,
});
