import type { Logger } from 'winston';
import type { JsonObject } from '../domain/ports/event-store.port';
import type { AuthenticatedClient } from './middleware/api-state';

/** Security facts of the governance layer: refusals, unmasked reads, erasures, signing changes. */
export type SecurityEventKind =
  | 'rate_limited'
  | 'auth_throttled'
  | 'signature_refused'
  | 'signing_secret_set'
  | 'pii_read'
  | 'subject_erased';

export type SecurityEvent = {
  kind: SecurityEventKind;
  /** The authenticated client, or null before authentication. */
  clientId: string | null;
  ip: string | null;
  /** Correlation id of the request (X-Request-Id). */
  requestId: string;
  /** Never a secret, a key or a clear personal field. */
  detail: JsonObject;
};

/**
 * What the governance layer needs from the security audit trail and the scopes (issue #15's
 * other half): where to record a security event, and whether a client may read personal data in
 * clear. The composition root wires the real ones; until then roleBasedSecurity stands in.
 */
export type SecurityPort = {
  /** Fire and forget: never blocks the response, never throws. */
  record(event: SecurityEvent): void;
  /** True when the client has the `pii:read` scope. */
  mayReadPii(client: AuthenticatedClient): boolean;
};

/** Stand-in: events go to the structured log; admin and auditor stand for `pii:read`. */
export const roleBasedSecurity = (logger: Logger): SecurityPort => ({
  record: (event) => logger.warn('security_event', event),
  mayReadPii: (client) => client.role === 'admin' || client.role === 'auditor',
});
