import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateApiKey,
  hashApiKey,
  modeOfUnregisteredKey,
} from '../../domain/ports/client-store.port';
import type { ClientStore } from '../../domain/ports/client-store.port';

const BOOTSTRAP_ADMIN_ID = 'admin';
export const ADMIN_KEY_FILE_NAME = 'admin-api-key';

/**
 * Makes sure an admin can call the API on a fresh install. LEDGER_ADMIN_API_KEY wins when set;
 * otherwise a key is generated once into <dataDir>/admin-api-key (mode 0600) and reused on later
 * starts. The admin is live unless its key shows the test prefix ('lsk_test_'): a generated key
 * is live. Returns the key file's path (null when the key came from the environment) so that the
 * caller can log where the key is; the key itself is never returned or logged.
 */
export const ensureBootstrapAdmin = async (options: {
  store: ClientStore;
  dataDir: string;
  adminApiKeyFromEnv: string | null;
  now?: () => Date;
}): Promise<string | null> => {
  const now = options.now ?? (() => new Date());
  if (options.adminApiKeyFromEnv !== null) {
    await registerAdmin(options.store, options.adminApiKeyFromEnv, now());
    return null;
  }
  const filePath = join(options.dataDir, ADMIN_KEY_FILE_NAME);
  const apiKey = readOrCreateKeyFile(options.dataDir, filePath);
  await registerAdmin(options.store, apiKey, now());
  return filePath;
};

/** The file is written before the key is registered, so a crash in between loses nothing. */
const readOrCreateKeyFile = (dataDir: string, filePath: string): string => {
  if (existsSync(filePath)) {
    chmodSync(filePath, 0o600); // An operator's copy may have been made world-readable.
    const apiKey = readFileSync(filePath, 'utf8').trim();
    if (apiKey.length === 0) throw new Error(`admin key file ${filePath} is empty`);
    return apiKey;
  }
  mkdirSync(dataDir, { recursive: true });
  const apiKey = generateApiKey('live');
  writeFileSync(filePath, `${apiKey}\n`, { mode: 0o600, flag: 'wx' });
  return apiKey;
};

/**
 * Registers a new or changed key (keeping the admin's createdAt). An unchanged key is left as it
 * is: a revoked bootstrap key stays revoked; the operator sets or deletes the key for a new one.
 */
const registerAdmin = async (store: ClientStore, apiKey: string, now: Date): Promise<void> => {
  const existing = await store.findById(BOOTSTRAP_ADMIN_ID);
  const keyHash = hashApiKey(apiKey);
  if (existing !== null && existing.keyHash === keyHash) return;
  await store.put({
    clientId: BOOTSTRAP_ADMIN_ID,
    role: 'admin',
    mode: modeOfUnregisteredKey(apiKey),
    keyHash,
    createdAt: existing?.createdAt ?? now.toISOString(),
    revokedAt: null,
  });
};
