import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type {
  RateCounter,
  RatePolicy,
  RateVerdict,
} from '../../domain/ports/rate-limit-store.port';

/** A refusal is a RateLimiterRes; any other rejection is the store's fault. */
const verdictOf = async (limiter: RateLimiterAbstract, key: string): Promise<RateVerdict> => {
  try {
    const result = await limiter.consume(key);
    return { allowed: true, remaining: result.remainingPoints, resetMs: result.msBeforeNext };
  } catch (refusal: unknown) {
    if (refusal instanceof RateLimiterRes)
      return { allowed: false, retryAfterMs: refusal.msBeforeNext };
    throw refusal;
  }
};

const peekOf = async (
  limiter: RateLimiterAbstract,
  key: string,
): Promise<{ consumed: number; resetMs: number } | null> => {
  const state = await limiter.get(key);
  return state === null ? null : { consumed: state.consumedPoints, resetMs: state.msBeforeNext };
};

export const memoryLimiterOf = (name: string, policy: RatePolicy): RateLimiterMemory =>
  new RateLimiterMemory({ keyPrefix: name, points: policy.requests, duration: policy.windowS });

/** A counter over one rate-limiter-flexible limiter that cannot fail (the memory one). */
export const counterOf = (limiter: RateLimiterAbstract): RateCounter => ({
  consume: (key) => verdictOf(limiter, key),
  peek: (key) => peekOf(limiter, key),
});

/** Told when a shared store starts failing (once) and when it answers again (once). */
export type StoreFaultListener = {
  onFault(counterName: string, error: unknown): void;
  onRecovered(counterName: string): void;
};

/** After a fault, the store is tried again only this long after (a lock must not stall every request). */
export const STORE_RETRY_AFTER_FAULT_MS = 5_000;

/**
 * A counter over a shared store with an in-memory insurance limiter of the same policy: while the
 * store fails, this instance counts alone (the limit holds per instance, as with the memory
 * store) and the request is never refused for the fault. After a fault the store is left alone
 * for STORE_RETRY_AFTER_FAULT_MS (a SQLite lock would otherwise block every request for the busy
 * timeout), then tried again; its next answer switches back. The listener hears each switch
 * once, not each request.
 */
export const insuredCounterOf = (
  name: string,
  shared: RateLimiterAbstract,
  insurance: RateLimiterMemory,
  options: { listener: StoreFaultListener; nowMs: () => number },
): RateCounter => {
  const { listener, nowMs } = options;
  let failedAtMs: number | null = null;
  const guarded = async <T>(
    onShared: () => Promise<T>,
    onInsurance: () => Promise<T>,
  ): Promise<T> => {
    if (failedAtMs !== null && nowMs() - failedAtMs < STORE_RETRY_AFTER_FAULT_MS)
      return onInsurance();
    try {
      const result = await onShared();
      if (failedAtMs !== null) {
        failedAtMs = null;
        listener.onRecovered(name);
      }
      return result;
    } catch (error: unknown) {
      if (failedAtMs === null) listener.onFault(name, error);
      failedAtMs = nowMs();
      return onInsurance();
    }
  };
  return {
    consume: (key) =>
      guarded(
        () => verdictOf(shared, key),
        () => verdictOf(insurance, key),
      ),
    peek: (key) =>
      guarded(
        () => peekOf(shared, key),
        () => peekOf(insurance, key),
      ),
  };
};
