import type { ClientRole } from '../ports/client-store.port';

/**
 * Every scope a route may require, and the roles that hold it by default. A role's default scopes
 * reproduce what that role could do before scopes existed, so an API key keeps its behaviour; a
 * token carries a subset of them, and a grant adds scopes to one client until a date.
 */
export const SCOPE_TABLE = {
  'accounts:read': { roles: ['admin', 'auditor', 'merchant'], meaning: 'read accounts, entries' },
  'accounts:write': { roles: ['admin', 'merchant'], meaning: 'open and close accounts' },
  'transfers:read': { roles: ['admin', 'auditor', 'merchant'], meaning: 'read transfers' },
  'transfers:write': { roles: ['admin', 'merchant'], meaning: 'create, post, void transfers' },
  'payments:read': { roles: ['admin', 'auditor', 'merchant'], meaning: 'read payments, refunds' },
  'payments:write': { roles: ['admin', 'merchant'], meaning: 'create, close, resume payments' },
  'refunds:write': { roles: ['admin', 'merchant'], meaning: 'refund a payment' },
  'events:read': { roles: ['admin', 'auditor', 'merchant'], meaning: 'live event streams (SSE)' },
  'catalog:read': {
    roles: ['admin', 'auditor', 'merchant', 'node'],
    meaning: 'read plans and items',
  },
  'catalog:write': { roles: ['admin'], meaning: 'create, change, restock, retire items' },
  'purchases:read': {
    roles: ['admin', 'auditor', 'merchant'],
    meaning: "read a buyer's orders",
  },
  'purchases:write': { roles: ['admin', 'merchant'], meaning: 'buy plans and items' },
  'users:read': { roles: ['admin', 'auditor'], meaning: "read a traffic user's purchases" },
  'traffic:read': { roles: ['admin', 'auditor', 'node'], meaning: 'read traffic' },
  'traffic:write': { roles: ['admin', 'node'], meaning: 'report traffic usage' },
  'traffic:admin': { roles: ['admin'], meaning: 'grant and reset traffic quotas' },
  'nodes:read': { roles: ['admin', 'auditor', 'node'], meaning: 'read a node and its users' },
  'nodes:list': { roles: ['admin', 'auditor'], meaning: 'list every node' },
  'nodes:write': { roles: ['admin'], meaning: 'register, change, retire nodes' },
  'node:self': { roles: ['node'], meaning: "a node's own heartbeats and configuration" },
  'sagas:read': { roles: ['admin', 'auditor'], meaning: 'read sagas' },
  'sagas:write': { roles: ['admin'], meaning: 'retry a saga' },
  'audit:read': {
    roles: ['admin', 'auditor'],
    meaning: 'audit trail, verification, reconciliations, security events',
  },
  'audit:write': { roles: ['admin'], meaning: 'rebuild the read models' },
  'reconciliations:read': {
    roles: ['admin', 'auditor'],
    meaning: "read the daily reconciliation's reports",
  },
  'reconciliations:write': {
    roles: ['admin'],
    meaning: "resolve a reconciliation difference with a note; run a day's reconciliation now",
  },
  'risk:read': { roles: ['admin', 'auditor'], meaning: 'read the risk rules' },
  'risk:write': { roles: ['admin'], meaning: 'replace the risk rules' },
  'pii:read': { roles: ['admin'], meaning: 'personal data unmasked' },
  'pii:erase': { roles: ['admin'], meaning: "erase a subject's personal data (crypto-shredding)" },
  'metrics:read': { roles: ['admin'], meaning: 'Prometheus metrics' },
  'webhooks:write': {
    roles: ['admin', 'merchant'],
    meaning: 'webhook endpoints, their deliveries and resends',
  },
  'clients:admin': { roles: ['admin'], meaning: 'clients, their secrets and grants' },
} as const satisfies Record<string, { roles: readonly ClientRole[]; meaning: string }>;

export type Scope = keyof typeof SCOPE_TABLE;

export const SCOPES = Object.keys(SCOPE_TABLE) as Scope[];

export const isScope = (value: string): value is Scope => Object.hasOwn(SCOPE_TABLE, value);

/** The scopes a role holds by default. */
export const roleScopes = (role: ClientRole): readonly Scope[] =>
  SCOPES.filter((scope) => (SCOPE_TABLE[scope].roles as readonly ClientRole[]).includes(role));

/** The tokens of a space-separated scope string (RFC 6749 §3.3), without repeats. */
const scopeTokens = (scope: string): string[] => [
  ...new Set(scope.split(' ').filter((token) => token !== '')),
];

type ScopeRequest =
  { ok: true; scopes: readonly Scope[] } | { ok: false; unknownOrRefused: readonly string[] };

/**
 * The scopes a token gets: all the client holds when none is requested, else the requested ones,
 * each of which must be held (RFC 6749 §3.3: refusing is allowed; we refuse rather than narrow).
 */
export const grantedScopes = (requested: string | null, held: ReadonlySet<Scope>): ScopeRequest => {
  if (requested === null) return { ok: true, scopes: [...held].sort() };
  const tokens = scopeTokens(requested);
  const refused = tokens.filter((token) => !isScope(token) || !held.has(token));
  if (refused.length > 0 || tokens.length === 0) return { ok: false, unknownOrRefused: refused };
  return { ok: true, scopes: tokens.filter(isScope).sort() };
};
