import { createHash, randomBytes } from 'node:crypto';
import type { Mode } from '../mode/mode';

/**
 * The client store port: API clients, their role and the sha256 of their API key. The key itself
 * is never stored; it is shown once when the client is created.
 */
export type ClientRole = 'admin' | 'merchant' | 'node' | 'auditor';

export const CLIENT_ROLES: readonly ClientRole[] = ['admin', 'merchant', 'node', 'auditor'];

export type Client = {
  clientId: string;
  role: ClientRole;
  /** Test or live, fixed at creation: what its key and tokens reach (domain/mode/mode.ts). */
  mode: Mode;
  /** sha256 hex of the API key. */
  keyHash: string;
  /** ISO-8601 instant. */
  createdAt: string;
  /** ISO-8601 instant, or null while the key is valid. */
  revokedAt: string | null;
};

export type CreateClientResult = { ok: true } | { ok: false; reason: 'client_exists' };

export interface ClientStore {
  /** Registers a new client; refuses an existing clientId (even a revoked one). */
  create(client: Client): Promise<CreateClientResult>;
  /** Inserts or replaces a client (bootstrap of the admin key). */
  put(client: Client): Promise<void>;
  /** The client with this id, or null. */
  findById(clientId: string): Promise<Client | null>;
  /** The client whose key hashes to keyHash (revoked or not), or null. */
  findByKeyHash(keyHash: string): Promise<Client | null>;
  /** Marks the client revoked at revokedAt (kept if already revoked); null if unknown. */
  revoke(clientId: string, revokedAt: string): Promise<Client | null>;
  /** Sets (or replaces) the client's OAuth secret hash; false if the client is unknown. */
  setSecretHash(clientId: string, secretHash: string): Promise<boolean>;
  /** The client's OAuth secret hash, or null when it has none (or is unknown). */
  secretHashOf(clientId: string): Promise<string | null>;
}

const API_KEY_PREFIX = 'lsk_';
const API_KEY_BYTES = 32;
const TEST_KEY_PREFIX = `${API_KEY_PREFIX}test_`;

/** The keyHash of an API key: sha256 hex of its UTF-8 bytes. */
export const hashApiKey = (apiKey: string): string =>
  createHash('sha256').update(apiKey, 'utf8').digest('hex');

/**
 * A fresh API key: 'lsk_test_' or 'lsk_live_' + 32 random bytes in base64url (256 bits of
 * entropy). The prefix only shows the mode to people; the client's stored mode decides.
 */
export const generateApiKey = (mode: Mode): string =>
  `${API_KEY_PREFIX}${mode}_${randomBytes(API_KEY_BYTES).toString('base64url')}`;

/**
 * The mode of a key that has no client row to say it (LEDGER_ADMIN_API_KEY, the admin key file):
 * test only when it shows the test prefix, otherwise live, the mode every key had before modes.
 */
export const modeOfUnregisteredKey = (apiKey: string): Mode =>
  apiKey.startsWith(TEST_KEY_PREFIX) ? 'test' : 'live';
