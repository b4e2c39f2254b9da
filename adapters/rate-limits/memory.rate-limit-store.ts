import type { RateLimitStore } from '../../domain/ports/rate-limit-store.port';
import { counterOf, memoryLimiterOf } from './rate-limiter-counter';

/** Counters in this process's memory: per instance, reset by a restart. */
export const createMemoryRateLimitStore = (): RateLimitStore => ({
  counter: (name, policy) => counterOf(memoryLimiterOf(name, policy)),
  close: async () => undefined,
});
