import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { checkBackupFiles, readManifest, type BackupManifest } from './backup';
import { acquireDataDirLock, DATA_DIR_LOCK_FILE_NAME } from './data-dir-lock';

/** What an audit command printed and how it exited. */
export type AuditRun = { exitCode: number; output: string };

type RestoreReport = {
  ok: boolean;
  dataDir: string;
  eventStoreHeadPosition: string | null;
  fileCount: number;
  durationMs: number;
  audits: { command: string; exitCode: number; output: string }[];
};

/** The restore was refused before anything was written: the reason names what to change. */
class RestoreRefusedError extends Error {
  override readonly name = 'RestoreRefusedError';
}

const AUDIT_COMMANDS = [
  ['audit', 'verify'],
  ['audit', 'balances'],
] as const;

const entriesOf = async (directory: string): Promise<string[]> =>
  readdir(directory).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  });

/**
 * Restores a backup into an empty data dir: refuses a directory with anything in it (a running
 * service's holds its lock file), holds the data dir's lock while it works so that no service
 * starts on a half-restored directory, checks every file against the manifest (before and after
 * the copy), then runs `audit verify` and `audit balances` on the result. `ok` only when both
 * exit 0.
 */
export const restoreBackup = async (options: {
  backupPath: string;
  dataDir: string;
  runAudit: (args: readonly string[], dataDir: string) => Promise<AuditRun>;
  nowMs: () => number;
}): Promise<RestoreReport> => {
  const startedMs = options.nowMs();
  const manifest: BackupManifest = await readManifest(options.backupPath);
  const damaged = await checkBackupFiles(options.backupPath, manifest);
  if (damaged.length > 0)
    throw new RestoreRefusedError(`the backup does not match its manifest: ${damaged.join('; ')}`);
  const found = await entriesOf(options.dataDir);
  if (found.length > 0)
    throw new RestoreRefusedError(
      found.includes(DATA_DIR_LOCK_FILE_NAME)
        ? `${options.dataDir} belongs to a service (${DATA_DIR_LOCK_FILE_NAME}): restore into a new, empty directory`
        : `${options.dataDir} is not empty (${found.length} entries): restore into a new, empty directory`,
    );
  const lock = acquireDataDirLock(options.dataDir);
  try {
    const others = (await entriesOf(options.dataDir)).filter(
      (name) => !name.startsWith(DATA_DIR_LOCK_FILE_NAME),
    );
    if (others.length > 0)
      throw new RestoreRefusedError(`${options.dataDir} was written to while the restore began`);
    for (const file of manifest.files)
      await copyFile(join(options.backupPath, file.name), join(options.dataDir, file.name));
    const copied = await checkBackupFiles(options.dataDir, manifest);
    if (copied.length > 0) throw new Error(`the restored files differ: ${copied.join('; ')}`);
  } finally {
    lock.release();
  }
  const audits: RestoreReport['audits'] = [];
  for (const args of AUDIT_COMMANDS) {
    const run = await options.runAudit(args, options.dataDir);
    audits.push({ command: args.join(' '), ...run });
  }
  return {
    ok: audits.every((audit) => audit.exitCode === 0),
    dataDir: options.dataDir,
    eventStoreHeadPosition: manifest.eventStoreHeadPosition,
    fileCount: manifest.files.length,
    durationMs: options.nowMs() - startedMs,
    audits,
  };
};
