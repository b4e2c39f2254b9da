import { holdsScopeSomewhere } from '../domain/auth/grants';
import type { ApiState } from './middleware/api-state';
import type { SecurityEventInput, SecurityRecorder } from './security/security-recorder';

export type SecurityEvent = SecurityEventInput;

/**
 * What the governance layer (rate limits, signed requests, personal data) needs from the
 * security audit trail and the scopes: where to record a security event, and whether a request
 * may read personal data in clear.
 */
export type SecurityPort = {
  /** Fire and forget: never blocks the response, never throws. */
  record(event: SecurityEvent): void;
  /** True when the request holds `pii:read` (its role's default, a grant, or its token's scope). */
  mayReadPii(ctx: { state: ApiState }): boolean;
};

/** The real one: events go to the security audit trail; `pii:read` is a scope. */
export const trailSecurity = (recorder: SecurityRecorder): SecurityPort => ({
  record: (event) => recorder.record(event),
  mayReadPii: (ctx) =>
    ctx.state.access !== undefined && holdsScopeSomewhere(ctx.state.access, 'pii:read'),
});
