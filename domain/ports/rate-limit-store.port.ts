/** At most `requests` in a fixed window of `windowS` seconds per key. */
export type RatePolicy = { requests: number; windowS: number };

/** One request counted against a key: allowed (with what is left) or refused until the window ends. */
export type RateVerdict =
  { allowed: true; remaining: number; resetMs: number } | { allowed: false; retryAfterMs: number };

/** One policy's counters, one fixed window per key. */
export type RateCounter = {
  /** Counts one request against `key`. Never rejects: a store fault is the adapter's to absorb. */
  consume(key: string): Promise<RateVerdict>;
  /** Requests counted against `key` in its current window, or null when none. Never rejects. */
  peek(key: string): Promise<{ consumed: number; resetMs: number } | null>;
};

/**
 * Where the rate-limit counters live: in memory (one instance's) or in a store several instances
 * share. `counter(name, policy)` with the same name and policy on two stores over the same
 * backing counts the same keys together.
 */
export type RateLimitStore = {
  counter(name: string, policy: RatePolicy): RateCounter;
  close(): Promise<void>;
};
