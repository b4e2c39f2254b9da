import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqlitePersonalDataVault } from '../../adapters/personal-data/sqlite.personal-data-vault';
import { createSqliteSigningStore } from '../../adapters/signing/sqlite.signing-store';
import { createSqliteClientStore } from '../../adapters/clients/sqlite.client-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';

const LEDGER = join(__dirname, '../../dist/bin/ledger.js');

/** `ledger subjects erase` and `ledger clients signing-secret` on the files in DATA_DIR (dist/). */
describe('governance CLI', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-governance-cli-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [LEDGER, ...args], {
      env: { ...process.env, DATA_DIR: dataDir },
      encoding: 'utf8',
    });

  it('erases a subject: its sealed data no longer opens; an unknown subject exits 1', async () => {
    const database = openSqliteDatabase(join(dataDir, 'subject-keys.sqlite'));
    const vault = createSqlitePersonalDataVault(database, () => 'then');
    const sealed = await vault.seal('person-1', { name: 'Alice' });
    if (!sealed.ok) throw new Error('seal refused');
    const erased = run('subjects', 'erase', 'person-1');
    expect(erased.status).toBe(0);
    expect(JSON.parse(erased.stdout)).toMatchObject({ subjectId: 'person-1' });
    expect(await vault.open(sealed.holder)).toBeNull();
    database.close();
    expect(run('subjects', 'erase', 'nobody').status).toBe(1);
  });

  it('sets a signing secret for an existing client only', async () => {
    const database = openSqliteDatabase(join(dataDir, 'service.sqlite'));
    await createSqliteClientStore(database).put({
      clientId: 'shop-1',
      role: 'merchant',
      mode: 'live',
      keyHash: 'h',
      createdAt: 'then',
      revokedAt: null,
    });
    const output = execFileSync(
      process.execPath,
      [LEDGER, 'clients', 'signing-secret', 'shop-1', '--required'],
      { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' },
    );
    const { signingSecret } = JSON.parse(output) as { signingSecret: string };
    expect(await createSqliteSigningStore(database).settingsOf('shop-1')).toMatchObject({
      secret: signingSecret,
      required: true,
    });
    database.close();
    const ghost = run('clients', 'signing-secret', 'ghost');
    expect([ghost.status, ghost.stderr.trim()]).toEqual([1, 'no such client: ghost']);
  });
});
