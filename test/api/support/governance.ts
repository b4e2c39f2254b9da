import { createSqliteSigningStore } from '../../../adapters/signing/sqlite.signing-store';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import type { Governance } from '../../../api/governance';
import { createMemoryRateLimitStore } from '../../../adapters/rate-limits/memory.rate-limit-store';
import { createRateLimits, type RateLimitSettings } from '../../../api/middleware/rate-limit';
import { trailSecurity, type SecurityEvent, type SecurityPort } from '../../../api/security-port';
import type { RateLimitStore } from '../../../domain/ports/rate-limit-store.port';
import type { SigningStore } from '../../../domain/ports/request-signing.port';

const NO_LIMITS: RateLimitSettings = {
  client: null,
  ip: null,
  hotKey: null,
  callback: null,
  authFailures: null,
};

/**
 * A governance layer on memory limiters, with the real security port over a recorder that
 * captures into `events` (createTestApp makes it the app's one security port).
 */
export const testGovernance = (
  options: {
    limits?: Partial<RateLimitSettings>;
    signing?: SigningStore;
    /** Where the counters live (absent: memory). */
    store?: RateLimitStore;
  } = {},
): Governance & { events: SecurityEvent[]; security: SecurityPort } => {
  const events: SecurityEvent[] = [];
  const security = trailSecurity({
    record: (event) => void events.push(event),
    flush: () => Promise.resolve(),
  });
  return {
    events,
    security,
    signing: options.signing ?? createSqliteSigningStore(openSqliteDatabase(':memory:')),
    rateLimits: createRateLimits({
      settings: { ...NO_LIMITS, ...options.limits },
      store: options.store ?? createMemoryRateLimitStore(),
      security,
    }),
  };
};
