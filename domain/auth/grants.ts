import type { ClientRole } from '../ports/client-store.port';
import { roleScopes, type Scope } from './scopes';

/**
 * A grant: extra scopes for one client until a date, either everywhere (no resources) or only on
 * the resources it names (`account:<accountId>`). It stops working by itself at expiresAt: every
 * check compares with the clock, so no sweeper has to remove it.
 */
export type Grant = {
  grantId: string;
  clientId: string;
  scopes: readonly Scope[];
  /** Empty: the scopes hold everywhere; else only on these resources. */
  resources: readonly string[];
  /** Client id of the admin who granted it. */
  grantedBy: string;
  /** ISO-8601 instants. */
  grantedAt: string;
  expiresAt: string;
  revokedAt: string | null;
};

/** What a request may do: the scopes held everywhere, and per resource the scopes held on it. */
export type Access = {
  scopes: ReadonlySet<Scope>;
  resourceScopes: ReadonlyMap<string, ReadonlySet<Scope>>;
};

const isGrantActive = (grant: Grant, nowMs: number): boolean =>
  grant.revokedAt === null && Date.parse(grant.expiresAt) > nowMs;

/** A grant's status at nowMs, for the API's list. */
export const grantStatus = (grant: Grant, nowMs: number): 'active' | 'expired' | 'revoked' =>
  grant.revokedAt !== null ? 'revoked' : isGrantActive(grant, nowMs) ? 'active' : 'expired';

/** The role's default scopes plus the client's grants active at nowMs. */
export const accessOf = (role: ClientRole, grants: readonly Grant[], nowMs: number): Access => {
  const scopes = new Set<Scope>(roleScopes(role));
  const resourceScopes = new Map<string, Set<Scope>>();
  for (const grant of grants.filter((candidate) => isGrantActive(candidate, nowMs))) {
    if (grant.resources.length === 0) grant.scopes.forEach((scope) => scopes.add(scope));
    for (const resource of grant.resources) {
      const held = resourceScopes.get(resource) ?? new Set<Scope>();
      grant.scopes.forEach((scope) => held.add(scope));
      resourceScopes.set(resource, held);
    }
  }
  return { scopes, resourceScopes };
};

/** A token's access: what it was issued with, cut down to what the client holds now. */
export const narrowAccess = (held: Access, tokenScopes: ReadonlySet<Scope>): Access => ({
  scopes: new Set([...held.scopes].filter((scope) => tokenScopes.has(scope))),
  resourceScopes: new Map(
    [...held.resourceScopes].map(([resource, scopes]) => [
      resource,
      new Set([...scopes].filter((scope) => tokenScopes.has(scope))),
    ]),
  ),
});

/** Whether the access holds scope everywhere or on at least one resource. */
export const holdsScopeSomewhere = (access: Access, scope: Scope): boolean =>
  access.scopes.has(scope) || [...access.resourceScopes.values()].some((held) => held.has(scope));

/** Whether the access holds scope on this resource through a grant naming it. */
export const holdsScopeOn = (access: Access, scope: Scope, resource: string): boolean =>
  access.resourceScopes.get(resource)?.has(scope) ?? false;
