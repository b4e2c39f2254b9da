import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { pruneBackups, takeBackup, type BackupRun } from './backup';
import { loadConfig, type Config } from './config';
import { restoreBackup, type AuditRun } from './restore';

/**
 * Runs `ledger <args>` (this same CLI) on `dataDir`'s embedded stores: the restored directory is
 * checked by the very commands an operator would run, whatever KurrentDB or MongoDB the
 * environment names.
 */
const runLedgerCommand = (args: readonly string[], dataDir: string): Promise<AuditRun> =>
  new Promise((resolvePromise, reject) => {
    const cliPath = process.argv[1];
    if (cliPath === undefined) {
      reject(new Error('restore: the path of the ledger CLI is unknown'));
      return;
    }
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...process.env, DATA_DIR: dataDir, EVENTSTORE_URL: '', MONGODB_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', reject);
    child.once('close', (code) =>
      resolvePromise({ exitCode: code ?? 1, output: Buffer.concat(chunks).toString('utf8') }),
    );
  });

/**
 * One scheduled backup of the service: `ledger backup` (the dist/ CLI beside this file) as a
 * child process, given only the variables it needs; its JSON answer is the run's report.
 */
export const backupInChildProcess = (
  config: Pick<Config, 'dataDir' | 'backupDir' | 'backupKeepCount'>,
): Promise<BackupRun> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'ledger.js'), 'backup'], {
      env: {
        DATA_DIR: config.dataDir,
        BACKUP_DIR: config.backupDir,
        BACKUP_KEEP: String(config.backupKeepCount),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolvePromise(JSON.parse(Buffer.concat(out).toString('utf8')) as BackupRun);
      else
        reject(new Error(`ledger backup exited ${code}: ${Buffer.concat(err).toString('utf8')}`));
    });
  });

const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** `ledger backup` and `ledger restore <backup> --data-dir <dir>`. */
export const registerBackupCommands = (program: Command): void => {
  program
    .command('backup')
    .description(
      'online backup of every embedded store in DATA_DIR (SQLite backup API, also while the service runs) into a new directory of BACKUP_DIR; keeps BACKUP_KEEP',
    )
    .option('--dir <dir>', 'write into this directory instead of BACKUP_DIR')
    .action(async (options: { dir?: string }) => {
      const config = loadConfig(process.env);
      const backupDir = options.dir === undefined ? config.backupDir : resolve(options.dir);
      const { directory, manifest } = await takeBackup({
        dataDir: config.dataDir,
        backupDir,
        nowMs: Date.now,
      });
      const deleted = await pruneBackups(backupDir, config.backupKeepCount);
      const run: BackupRun = { directory, deleted, manifest };
      printJson(run);
    });
  program
    .command('restore <backup>')
    .description(
      'restore a backup into an empty data dir, check it against its manifest, then run `audit verify` and `audit balances` on it; exit 0 only if both pass',
    )
    .requiredOption('--data-dir <dir>', 'the new, empty data dir to restore into')
    .action(async (backup: string, options: { dataDir: string }) => {
      const report = await restoreBackup({
        backupPath: resolve(backup),
        dataDir: resolve(options.dataDir),
        runAudit: runLedgerCommand,
        nowMs: Date.now,
      });
      printJson(report);
      process.stderr.write(
        report.ok
          ? `restored into ${report.dataDir}: audit verify and audit balances pass\n`
          : `restored into ${report.dataDir}, but ${report.audits
              .filter((audit) => audit.exitCode !== 0)
              .map((audit) => audit.command)
              .join(' and ')} failed: do not use it\n`,
      );
      process.exitCode = report.ok ? 0 : 1;
    });
};
