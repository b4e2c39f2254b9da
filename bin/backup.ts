import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'winston';
import { DATA_DIR_LOCK_FILE_NAME } from './data-dir-lock';
import { EVENTS_FILE_NAME } from './event-store';

/**
 * Online backups of a data dir: every embedded SQLite store copied with SQLite's backup API
 * (a consistent snapshot of each, taken while the service writes), every other file (keys,
 * secrets, the sandbox journal) copied as it is, and a manifest with each file's size and
 * SHA-256 and the event store's head position in the copy.
 */
const MANIFEST_FILE_NAME = 'manifest.json';
const MANIFEST_FORMAT = 'ledger-backup/1';
const BACKUP_NAME_PREFIX = 'backup-';
const PARTIAL_NAME_PREFIX = '.partial-';
/** Pages per backup step: all of them, so that each store is copied in one read transaction. */
const PAGES_PER_STEP_ALL = 0x7fffffff;
const BUSY_TIMEOUT_MS = 5000;

type BackupFile = { name: string; kind: 'sqlite' | 'file'; bytes: number; sha256: string };

export type BackupManifest = {
  format: typeof MANIFEST_FORMAT;
  createdAt: string;
  sourceDataDir: string;
  /** The last event position in the copied event store; null: no events (or no embedded log). */
  eventStoreHeadPosition: string | null;
  durationMs: number;
  files: BackupFile[];
};

const isSqliteStore = (name: string): boolean => name.endsWith('.sqlite');

/** Files never backed up: SQLite's journals (the backup API reads through them) and the lock. */
const isSkipped = (name: string): boolean =>
  /-(wal|shm|journal)$/.test(name) || name.startsWith(DATA_DIR_LOCK_FILE_NAME);

const sha256OfFile = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });

/**
 * Copies one store with the backup API in a single step (one read transaction: the copy is the
 * store as one commit left it), then turns the copy into a self-contained file (no WAL) and
 * checks it. Returns the head position when the store is the event log.
 */
const backupSqliteStore = async (source: string, target: string): Promise<string | null> => {
  const database = new Database(source, { fileMustExist: true });
  try {
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    await database.backup(target, { progress: () => PAGES_PER_STEP_ALL });
  } finally {
    database.close();
  }
  const copy = new Database(target, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`${target}: the copy fails quick_check (${String(check)})`);
    if (!source.endsWith(EVENTS_FILE_NAME)) return null;
    const row = copy.prepare('SELECT max(position) AS head FROM events').get() as {
      head: number | bigint | null;
    };
    return row.head === null ? null : String(row.head);
  } finally {
    copy.close();
  }
};

/** `backup-2026-12-06T10-30-00-123Z`: sorts by time, valid as a file name everywhere. */
const backupNameAt = (nowMs: number): string =>
  `${BACKUP_NAME_PREFIX}${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`;

/**
 * Takes a backup of `dataDir` into a new directory of `backupDir`. The event store is copied
 * last: every checkpoint, signed checkpoint, snapshot and idempotency record in the other stores
 * then points at events the copied log holds. The directory appears under its final name only
 * once complete.
 */
export const takeBackup = async (options: {
  dataDir: string;
  backupDir: string;
  nowMs: () => number;
}): Promise<{ directory: string; manifest: BackupManifest }> => {
  const startedMs = options.nowMs();
  const name = backupNameAt(startedMs);
  const partial = join(options.backupDir, `${PARTIAL_NAME_PREFIX}${name}`);
  await mkdir(partial, { recursive: true, mode: 0o700 });
  try {
    const entries = await readdir(options.dataDir, { withFileTypes: true });
    const names = entries
      .filter((entry) => entry.isFile() && !isSkipped(entry.name))
      .map((entry) => entry.name)
      .sort((left, right) => {
        const leftLast = left === EVENTS_FILE_NAME ? 1 : 0;
        const rightLast = right === EVENTS_FILE_NAME ? 1 : 0;
        return leftLast - rightLast || left.localeCompare(right);
      });
    let eventStoreHeadPosition: string | null = null;
    const kinds = new Map<string, BackupFile['kind']>();
    for (const fileName of names) {
      const source = join(options.dataDir, fileName);
      const target = join(partial, fileName);
      if (isSqliteStore(fileName)) {
        const head = await backupSqliteStore(source, target);
        if (fileName === EVENTS_FILE_NAME) eventStoreHeadPosition = head;
        kinds.set(fileName, 'sqlite');
      } else {
        await copyFile(source, target);
        kinds.set(fileName, 'file');
      }
    }
    const files: BackupFile[] = [];
    for (const [fileName, kind] of kinds) {
      const path = join(partial, fileName);
      files.push({
        name: fileName,
        kind,
        bytes: (await stat(path)).size,
        sha256: await sha256OfFile(path),
      });
    }
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      createdAt: new Date(startedMs).toISOString(),
      sourceDataDir: options.dataDir,
      eventStoreHeadPosition,
      durationMs: options.nowMs() - startedMs,
      files,
    };
    await writeFile(join(partial, MANIFEST_FILE_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
    const directory = join(options.backupDir, name);
    await rename(partial, directory);
    return { directory, manifest };
  } catch (error: unknown) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
};

/** Deletes the oldest complete backups beyond `keepCount`; returns the names deleted. */
export const pruneBackups = async (backupDir: string, keepCount: number): Promise<string[]> => {
  const names = (await readdir(backupDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && entry.name.startsWith(BACKUP_NAME_PREFIX))
    .map((entry) => entry.name)
    .sort();
  const deleted = names.slice(0, Math.max(0, names.length - keepCount));
  for (const name of deleted) await rm(join(backupDir, name), { recursive: true, force: true });
  return deleted;
};

/** The manifest of a backup directory; throws naming what is wrong with it. */
export const readManifest = async (backupPath: string): Promise<BackupManifest> => {
  const path = join(backupPath, MANIFEST_FILE_NAME);
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new Error(`${path}: no manifest, not a backup (${String(error)})`);
  });
  const manifest = JSON.parse(text) as Partial<BackupManifest>;
  const wellFormed =
    manifest.format === MANIFEST_FORMAT &&
    Array.isArray(manifest.files) &&
    manifest.files.every(
      (file) =>
        typeof file.name === 'string' &&
        /^[^/\\]+$/.test(file.name) &&
        file.name !== MANIFEST_FILE_NAME &&
        typeof file.sha256 === 'string' &&
        Number.isSafeInteger(file.bytes),
    );
  if (!wellFormed) throw new Error(`${path}: not a ${MANIFEST_FORMAT} manifest`);
  return manifest as BackupManifest;
};

/** Every file of the manifest against the backup: size and SHA-256. Returns the mismatches. */
export const checkBackupFiles = async (
  backupPath: string,
  manifest: BackupManifest,
): Promise<string[]> => {
  const problems: string[] = [];
  for (const file of manifest.files) {
    const path = join(backupPath, file.name);
    const bytes = await stat(path).then(
      (found) => found.size,
      () => null,
    );
    if (bytes === null) problems.push(`${file.name}: missing`);
    else if (bytes !== file.bytes)
      problems.push(`${file.name}: ${bytes} bytes, the manifest says ${file.bytes}`);
    else if ((await sha256OfFile(path)) !== file.sha256)
      problems.push(`${file.name}: SHA-256 differs from the manifest`);
  }
  return problems;
};

/** What one backup run reports to the schedule. */
export type BackupRun = { directory: string; manifest: BackupManifest; deleted: string[] };

/**
 * The one owner of scheduled backups inside the service: `runBackup` every `intervalMs` (the
 * next one is planned when the previous one ended, so two never overlap). The service's
 * `runBackup` is a `ledger backup` child process: the backup API copies a store in one
 * synchronous step, which must not stall the API thread. A failure is logged and the schedule
 * goes on.
 */
export const startBackupSchedule = (options: {
  intervalMs: number;
  runBackup: () => Promise<BackupRun>;
  logger: Logger;
}): { stop: () => Promise<void> } => {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  const runOnce = async (): Promise<void> => {
    try {
      const { directory, manifest, deleted } = await options.runBackup();
      options.logger.info('backup_written', {
        directory,
        eventStoreHeadPosition: manifest.eventStoreHeadPosition,
        durationMs: manifest.durationMs,
        bytes: manifest.files.reduce((sum, file) => sum + file.bytes, 0),
        deletedCount: deleted.length,
      });
    } catch (error: unknown) {
      options.logger.error('backup_failed', { error: String(error) });
    }
  };
  const plan = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      running = runOnce().then(plan);
    }, options.intervalMs);
  };
  plan();
  return {
    stop: async () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
    },
  };
};
