import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqlitePersonalDataVault } from '../../../adapters/personal-data/sqlite.personal-data-vault';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';

const NOW = '2026-01-01T00:00:00.000Z';
const FIELDS = { name: '张三丰', nationalId: '110101199003071234', phone: '13812345678' };

describe('SQLite personal data vault', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-vault-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = () => {
    const database = openSqliteDatabase(join(dir, 'subject-keys.sqlite'));
    return { database, vault: createSqlitePersonalDataVault(database, () => NOW) };
  };

  it('seals under the subject key: the ciphertext holds no clear value and opens back', async () => {
    const { database, vault } = open();
    const sealed = await vault.seal('subject-1', FIELDS);
    if (!sealed.ok) throw new Error('seal refused');
    expect(sealed.holder.fields).toEqual(['name', 'nationalId', 'phone']);
    expect(sealed.holder.sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    for (const value of Object.values(FIELDS)) expect(sealed.holder.sealed).not.toContain(value);
    expect(await vault.open(sealed.holder)).toEqual(FIELDS);
    // Another subject's key cannot open it (the subject id is bound as additional data).
    await vault.seal('subject-2', { name: 'x' });
    await expect(vault.open({ ...sealed.holder, subjectId: 'subject-2' })).rejects.toThrow();
    database.close();
  });

  it("refuses a tampered ciphertext (GCM's tag)", async () => {
    const { database, vault } = open();
    const sealed = await vault.seal('subject-1', FIELDS);
    if (!sealed.ok) throw new Error('seal refused');
    const [version, iv, ciphertext = '', tag] = sealed.holder.sealed.split('.');
    const flipped = `${ciphertext.startsWith('A') ? 'B' : 'A'}${ciphertext.slice(1)}`;
    const tampered = { ...sealed.holder, sealed: [version, iv, flipped, tag].join('.') };
    await expect(vault.open(tampered)).rejects.toThrow();
    database.close();
  });

  it('erases: the key is gone from the files, reads are null, sealing again is refused', async () => {
    const { database, vault } = open();
    const sealed = await vault.seal('subject-1', FIELDS);
    if (!sealed.ok) throw new Error('seal refused');
    const row = database
      .prepare('SELECT key FROM subject_keys WHERE subject_id = ?')
      .get('subject-1') as { key: Buffer };
    expect(await vault.erase('subject-1', '2026-02-01T00:00:00.000Z')).toEqual({
      ok: true,
      erasedAt: '2026-02-01T00:00:00.000Z',
    });
    expect(await vault.open(sealed.holder)).toBeNull();
    expect(await vault.seal('subject-1', { name: 'again' })).toEqual({
      ok: false,
      reason: 'subject_erased',
    });
    // A second erasure answers the first one's time; an unknown subject is not found.
    expect(await vault.erase('subject-1', '2026-03-01T00:00:00.000Z')).toEqual({
      ok: true,
      erasedAt: '2026-02-01T00:00:00.000Z',
    });
    expect(await vault.erase('nobody', NOW)).toEqual({ ok: false, reason: 'subject_not_found' });
    database.close();
    for (const file of readdirSync(dir))
      expect({ file, holdsKey: readFileSync(join(dir, file)).includes(row.key) }).toEqual({
        file,
        holdsKey: false,
      });
  });

  it('keeps keys across a restart (an acknowledged account stays readable)', async () => {
    const first = open();
    const sealed = await first.vault.seal('subject-1', FIELDS);
    first.database.close();
    if (!sealed.ok) throw new Error('seal refused');
    const second = open();
    expect(await second.vault.open(sealed.holder)).toEqual(FIELDS);
    second.database.close();
  });
});
