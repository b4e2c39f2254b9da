import type { Grant } from '../auth/grants';

export type AddGrantResult = { ok: true } | { ok: false; reason: 'grant_exists' };

/** Grants of extra scopes to clients (domain/auth/grants.ts); kept after expiry or revocation. */
export interface GrantStore {
  /** Stores a new grant; refuses an existing grantId. */
  add(grant: Grant): Promise<AddGrantResult>;
  /** The client's grants, newest first, at most countMax of them. */
  listByClient(clientId: string, countMax: number): Promise<Grant[]>;
  /** Marks the client's grant revoked at revokedAt (kept if already revoked); null if unknown. */
  revoke(clientId: string, grantId: string, revokedAt: string): Promise<Grant | null>;
}
