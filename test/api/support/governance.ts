import { createSqliteSigningStore } from '../../../adapters/signing/sqlite.signing-store';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import type { Governance } from '../../../api/governance';
import { createMemoryRateLimitStore } from '../../../adapters/rate-limits/memory.rate-limit-store';
import { createRateLimits, type RateLimitSettings } from '../../../api/middleware/rate-limit';
import type { SecurityEvent, SecurityPort } from '../../../api/security-port';
import type { SigningStore } from '../../../domain/ports/request-signing.port';

const NO_LIMITS: RateLimitSettings = {
  client: null,
  ip: null,
  hotKey: null,
  callback: null,
  authFailures: null,
};

/** A governance layer on memory limiters with a capturing security port. */
export const testGovernance = (
  options: { limits?: Partial<RateLimitSettings>; signing?: SigningStore } = {},
): Governance & { events: SecurityEvent[] } => {
  const events: SecurityEvent[] = [];
  const security: SecurityPort = {
    record: (event) => void events.push(event),
    mayReadPii: (ctx) => ctx.state.client?.role === 'admin' || ctx.state.client?.role === 'auditor',
  };
  return {
    events,
    security,
    signing: options.signing ?? createSqliteSigningStore(openSqliteDatabase(':memory:')),
    rateLimits: createRateLimits({
      settings: { ...NO_LIMITS, ...options.limits },
      store: createMemoryRateLimitStore(),
      security,
    }),
  };
};
