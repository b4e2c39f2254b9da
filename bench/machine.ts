import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';

/** What the figures were measured on: they mean little without it. */
type Machine = {
  cpuCount: number;
  cpuModel: string;
  memory: string;
  node: string;
  store: string;
  /** Other work on the machine skews every figure: the 1-minute load average at start. */
  loadAverage: number;
  /** The commit measured, and whether the working tree differed from it. */
  code: string;
};

const GIB = 1024 ** 3;
const DISK_PROBE_MS = 1_000;

const commandOutput = (command: string, args: readonly string[]): string | null => {
  try {
    return execFileSync(command, args, { encoding: 'utf8', timeout: 2_000 }).trim();
  } catch {
    return null; // The tool is missing or this is not a checkout: the field says 'unknown'.
  }
};

const codeVersion = (): string => {
  const commit = commandOutput('git', ['rev-parse', '--short', 'HEAD']);
  if (commit === null) return 'unknown';
  const status = commandOutput('git', ['--no-optional-locks', 'status', '--porcelain']) ?? '';
  const changedCount = status.split('\n').filter((line) => line.trim() !== '').length;
  return changedCount === 0 ? commit : `${commit} + ${changedCount} uncommitted files`;
};

/** `free -h`'s Mem line where the tool exists, else the total from the OS. */
const memory = (): string => {
  const lines = (commandOutput('free', ['-h']) ?? '').split('\n');
  const mem = lines.find((line) => line.startsWith('Mem:'))?.split(/\s+/);
  if (mem !== undefined) return `${mem[1] ?? '?'} total, ${mem[6] ?? '?'} available (free -h)`;
  return `${(totalmem() / GIB).toFixed(1)} GiB total`; // Not Linux, or procps missing.
};

export const describeMachine = (): Machine => ({
  cpuCount: availableParallelism(),
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
  memory: memory(),
  node: process.version,
  store: `embedded SQLite in ${tmpdir()} (durable default: WAL, group commit made durable by an fdatasync of the WAL off the event loop)`,
  loadAverage: loadavg()[0] ?? 0,
  code: codeVersion(),
});

export const machineText = (machine: Machine): string =>
  [
    `cpus (nproc): ${machine.cpuCount}`,
    `cpu model:    ${machine.cpuModel}`,
    `memory:       ${machine.memory}`,
    `node:         ${machine.node}`,
    `store:        ${machine.store}`,
    `load average: ${machine.loadAverage.toFixed(2)} (1 min, at start: other work skews figures)`,
    `code:         ${machine.code}`,
  ].join('\n');

/**
 * Fsynced one-row commits per second, for 1 s, on a SQLite file opened like the service's own
 * (same pragmas) in the temp dir the bench uses. Every durable figure is bounded by it, and on
 * shared virtual disks it drifts between runs, so the bench prints it before and after.
 */
export const probeDiskCommitsPerS = (): number => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-disk-'));
  try {
    const db = openSqliteDatabase(join(dir, 'probe.sqlite'));
    db.exec('CREATE TABLE probe (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO probe (payload) VALUES (?)');
    const payload = 'x'.repeat(512);
    const startedMs = performance.now();
    let commitCount = 0;
    while (performance.now() - startedMs < DISK_PROBE_MS) {
      insert.run(payload);
      commitCount += 1;
    }
    const commitsPerS = commitCount / ((performance.now() - startedMs) / 1000);
    db.close();
    return commitsPerS;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
