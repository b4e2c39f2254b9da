import type { JsonObject } from './event-store.port';

/**
 * The security audit trail: authentication failures, tokens issued, keys rotated, grants and
 * secrets changed, rate-limit refusals, unmasked reads. Kept apart from the money log.
 */
export type SecurityEventKind =
  | 'authentication_failed'
  | 'token_issued'
  | 'key_rotated'
  | 'client_secret_issued'
  | 'grant_added'
  | 'grant_revoked'
  | 'rate_limited'
  | 'auth_throttled'
  | 'signature_refused'
  | 'signing_secret_set'
  | 'unmasked_read'
  | 'subject_erased';

export const SECURITY_EVENT_KINDS: readonly SecurityEventKind[] = [
  'authentication_failed',
  'token_issued',
  'key_rotated',
  'client_secret_issued',
  'grant_added',
  'grant_revoked',
  'rate_limited',
  'auth_throttled',
  'signature_refused',
  'signing_secret_set',
  'unmasked_read',
  'subject_erased',
];

export type SecurityEvent = {
  kind: SecurityEventKind;
  /** ISO-8601 instant of the first occurrence. */
  occurredAt: string;
  /** Who: the client id (authenticated, or claimed by a failed attempt), else null. */
  clientId: string | null;
  /** Source IP as Koa sees it (ctx.ip), or null. */
  ip: string | null;
  /** Correlation id: the request id. */
  requestId: string | null;
  /** What: never a secret, a key or a full card or ID number. */
  detail: JsonObject;
  /** Identical facts coalesced into this row (floods of failures are one row per window). */
  count: number;
};

export type StoredSecurityEvent = SecurityEvent & { sequence: number };

export type SecurityEventQuery = {
  kind: SecurityEventKind | null;
  /** ISO-8601 bounds on occurredAt: from inclusive, to exclusive. */
  fromIso: string | null;
  toIso: string | null;
  /** Only events after this sequence (keyset pagination). */
  afterSequence: number;
  countMax: number;
};

export interface SecurityEventStore {
  /** Appends the events in one durable transaction. */
  append(events: readonly SecurityEvent[]): Promise<void>;
  /** Events matching the query in sequence order, at most countMax. */
  list(query: SecurityEventQuery): Promise<StoredSecurityEvent[]>;
  /** Deletes events that occurred before beforeIso; answers how many were deleted. */
  pruneOlderThan(beforeIso: string): Promise<number>;
}
