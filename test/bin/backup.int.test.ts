import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import {
  checkBackupFiles,
  pruneBackups,
  readManifest,
  startBackupSchedule,
  takeBackup,
} from '../../bin/backup';
import { eventuallyTrue } from '../support/eventually';
import { captureLogs } from '../support/log-capture';

const dataDirWithStore = (): string => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-backup-unit-'));
  const database = openSqliteDatabase(join(dataDir, 'service.sqlite'));
  database.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
  database.prepare('INSERT INTO notes (text) VALUES (?)').run('kept');
  database.close();
  writeFileSync(join(dataDir, 'serve.lock'), '1\n');
  writeFileSync(join(dataDir, 'admin-api-key'), 'key\n', { mode: 0o600 });
  return dataDir;
};

describe('backups', () => {
  it('copies the stores and files, never the lock or the WAL, and the manifest matches', async () => {
    const dataDir = dataDirWithStore();
    const backupDir = mkdtempSync(join(tmpdir(), 'ledger-backups-'));
    const { directory, manifest } = await takeBackup({ dataDir, backupDir, nowMs: Date.now });
    expect(manifest.files.map((file) => [file.name, file.kind])).toEqual([
      ['admin-api-key', 'file'],
      ['service.sqlite', 'sqlite'],
    ]);
    expect(manifest.eventStoreHeadPosition).toBeNull();
    expect(readdirSync(directory).sort()).toEqual([
      'admin-api-key',
      'manifest.json',
      'service.sqlite',
    ]);
    expect(await readManifest(directory)).toEqual(manifest);
    expect(await checkBackupFiles(directory, manifest)).toEqual([]);
    writeFileSync(join(directory, 'admin-api-key'), 'kez\n');
    expect(await checkBackupFiles(directory, manifest)).toEqual([
      'admin-api-key: SHA-256 differs from the manifest',
    ]);
  });

  it('takes one on each tick of the schedule and keeps the newest N', async () => {
    const dataDir = dataDirWithStore();
    const backupDir = mkdtempSync(join(tmpdir(), 'ledger-backups-'));
    const { logger, lines } = captureLogs();
    const schedule = startBackupSchedule({
      intervalMs: 5,
      runBackup: async () => {
        const { directory, manifest } = await takeBackup({ dataDir, backupDir, nowMs: Date.now });
        return { directory, manifest, deleted: await pruneBackups(backupDir, 2) };
      },
      logger,
    });
    try {
      await eventuallyTrue(
        () => lines().filter((line) => line['message'] === 'backup_written').length >= 3,
        { timeoutMs: 10_000, what: 'three scheduled backups' },
      );
    } finally {
      await schedule.stop();
    }
    const kept = readdirSync(backupDir);
    expect(kept).toHaveLength(2);
    expect(kept.every((name) => name.startsWith('backup-'))).toBe(true);
    expect(lines().some((line) => line['deletedCount'] === 1)).toBe(true);
  });
});
