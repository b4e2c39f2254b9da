import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_KEY_FILE_NAME, ensureBootstrapAdmin } from '../../adapters/clients/bootstrap-admin';
import { createSqliteClientStore } from '../../adapters/clients/sqlite.client-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { hashApiKey } from '../../domain/ports/client-store.port';
import type { ClientStore } from '../../domain/ports/client-store.port';

const ENV_KEY = 'env-admin-key-of-at-least-24-characters';
let dataDir: string;
let store: ClientStore;

beforeEach(() => {
  dataDir = join(mkdtempSync(join(tmpdir(), 'ledger-bootstrap-')), 'data');
  store = createSqliteClientStore(openSqliteDatabase(':memory:'));
});
afterEach(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));

const adminByKey = async (apiKey: string) => store.findByKeyHash(hashApiKey(apiKey));

describe('ensureBootstrapAdmin', () => {
  it('generates a key on first start into a 0600 file and registers it as admin', async () => {
    const filePath = await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: null });
    expect(filePath).toBe(join(dataDir, ADMIN_KEY_FILE_NAME));
    expect(statSync(join(dataDir, ADMIN_KEY_FILE_NAME)).mode & 0o777).toBe(0o600);
    const apiKey = readFileSync(join(dataDir, ADMIN_KEY_FILE_NAME), 'utf8').trim();
    expect(apiKey).toMatch(/^lsk_live_[A-Za-z0-9_-]{43}$/);
    await expect(adminByKey(apiKey)).resolves.toMatchObject({
      clientId: 'admin',
      role: 'admin',
      mode: 'live',
    });
  });

  it('makes a configured key live unless it shows the test prefix', async () => {
    const live = 'configured-admin-key-0123456789';
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: live });
    await expect(adminByKey(live)).resolves.toMatchObject({ clientId: 'admin', mode: 'live' });
    const test = 'lsk_test_configured-admin-key-0123456789';
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: test });
    await expect(adminByKey(test)).resolves.toMatchObject({ clientId: 'admin', mode: 'test' });
  });

  it('reuses the file on later starts, also with a fresh store', async () => {
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: null });
    const apiKey = readFileSync(join(dataDir, ADMIN_KEY_FILE_NAME), 'utf8').trim();
    store = createSqliteClientStore(openSqliteDatabase(':memory:'));
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: null });
    expect(readFileSync(join(dataDir, ADMIN_KEY_FILE_NAME), 'utf8').trim()).toBe(apiKey);
    await expect(adminByKey(apiKey)).resolves.toMatchObject({ clientId: 'admin', revokedAt: null });
  });

  it('honours LEDGER_ADMIN_API_KEY: no file, the env key authenticates, the old key no longer', async () => {
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: null });
    const fileKey = readFileSync(join(dataDir, ADMIN_KEY_FILE_NAME), 'utf8').trim();
    const fresh = join(dataDir, 'other');
    await expect(
      ensureBootstrapAdmin({ store, dataDir: fresh, adminApiKeyFromEnv: ENV_KEY }),
    ).resolves.toBeNull();
    expect(() => statSync(join(fresh, ADMIN_KEY_FILE_NAME))).toThrow();
    await expect(adminByKey(ENV_KEY)).resolves.toMatchObject({ clientId: 'admin', role: 'admin' });
    await expect(adminByKey(fileKey)).resolves.toBeNull();
  });

  it('keeps the first createdAt when the key changes', async () => {
    const first = new Date('2025-01-01T00:00:00.000Z');
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: null, now: () => first });
    const later = new Date('2025-06-01T00:00:00.000Z');
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: ENV_KEY, now: () => later });
    await expect(adminByKey(ENV_KEY)).resolves.toMatchObject({ createdAt: first.toISOString() });
  });

  it('leaves a revoked bootstrap key revoked when it has not changed', async () => {
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: ENV_KEY });
    await store.revoke('admin', '2025-02-01T00:00:00.000Z');
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: ENV_KEY });
    await expect(adminByKey(ENV_KEY)).resolves.toMatchObject({
      revokedAt: '2025-02-01T00:00:00.000Z',
    });
  });

  it('tightens a key file that was made readable by others back to 0600', async () => {
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: null });
    chmodSync(join(dataDir, ADMIN_KEY_FILE_NAME), 0o644);
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: null });
    expect(statSync(join(dataDir, ADMIN_KEY_FILE_NAME)).mode & 0o777).toBe(0o600);
  });

  it('refuses an empty key file instead of registering an empty key', async () => {
    await ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: null });
    writeFileSync(join(dataDir, ADMIN_KEY_FILE_NAME), '\n');
    await expect(
      ensureBootstrapAdmin({ store, dataDir, adminApiKeyFromEnv: null }),
    ).rejects.toThrow(/is empty/);
  });
});
