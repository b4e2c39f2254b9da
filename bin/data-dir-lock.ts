import { randomUUID } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * One `serve` per DATA_DIR: `serve.lock` holds the pid of the process that owns the directory.
 * The file only ever appears whole (written under a private name, then hard-linked into place,
 * which fails if it exists), so a reader never sees it half-written. A lock whose process is
 * gone (kill -9, power cut), or that holds no pid, is moved aside and replaced. The auditor's
 * read-only commands take no lock: SQLite lets them read beside the service.
 */
export const DATA_DIR_LOCK_FILE_NAME = 'serve.lock';

/** Rounds of "create, else judge the holder": each lost round means another process moved. */
const ACQUIRE_ROUND_COUNT_MAX = 8;

/** The data dir is held by a live process; `serve` exits 2 with this message. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    lockPath: string,
    readonly holderPid: number,
  ) {
    super(
      `DATA_DIR is in use by process ${holderPid} (lock ${lockPath}); ` +
        'stop that service first, or remove the lock file if that process is not a ledger service',
    );
  }
}

type DataDirLock = { path: string; release: () => void };

/** Locks held by this process: a lock naming our own pid is ours only if it is in here. */
const heldPaths = new Set<string>();

/** Structural, not instanceof: fs errors may come from another realm (vm contexts, workers). */
const errorCode = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;

/** Runs `work`, turning the listed error codes into `fallback`. */
const tolerating = <T>(codes: readonly string[], fallback: T, work: () => T): T => {
  try {
    return work();
  } catch (error: unknown) {
    const code = errorCode(error);
    if (code !== undefined && codes.includes(code)) return fallback;
    throw error;
  }
};

/** A hard link fails if `to` exists: the atomic "create if absent" for a file already written. */
const linked = (from: string, to: string): boolean =>
  tolerating(['EEXIST'], false, () => {
    linkSync(from, to);
    return true;
  });

const contentOf = (pid: number): string => `${pid}\n`;

/** The file's text, or null when it does not exist. */
const readText = (path: string): string | null =>
  tolerating(['ENOENT'], null, () => readFileSync(path, 'utf8'));

const pidIn = (text: string): number | null => {
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
};

/** Our own pid in a lock we do not hold is a previous life's (a container's pid 1 restarted). */
const isLive = (pid: number, path: string): boolean => {
  if (pid === process.pid) return heldPaths.has(path);
  try {
    return process.kill(pid, 0);
  } catch (error: unknown) {
    const code = errorCode(error);
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') return true; // Alive, owned by another user.
    throw error;
  }
};

/**
 * Moves a dead holder's lock aside. If, in between, another process replaced it with its own
 * lock, the move took that one: it is linked back (unless yet another lock appeared meanwhile).
 */
const removeStale = (path: string, staleText: string): void => {
  const aside = `${path}.stale-${randomUUID()}`;
  const moved = tolerating(['ENOENT'], false, () => {
    renameSync(path, aside);
    return true;
  });
  if (!moved) return;
  if (readText(aside) !== staleText) linked(aside, path);
  unlinkSync(aside);
};

const releaser = (path: string, ownText: string) => (): void => {
  if (!heldPaths.delete(path)) return;
  if (readText(path) === ownText) tolerating(['ENOENT'], undefined, () => unlinkSync(path));
};

/** Takes DATA_DIR for this process; throws DataDirLockedError while a live process holds it. */
export const acquireDataDirLock = (dataDir: string): DataDirLock => {
  mkdirSync(dataDir, { recursive: true });
  // One name per directory, however it is reached (relative path, symlink).
  const directory = realpathSync(dataDir);
  const path = join(directory, DATA_DIR_LOCK_FILE_NAME);
  const ownText = contentOf(process.pid);
  const candidate = `${path}.new-${randomUUID()}`;
  writeFileSync(candidate, ownText, { flag: 'wx' });
  try {
    for (let round = 0; round < ACQUIRE_ROUND_COUNT_MAX; round += 1) {
      if (linked(candidate, path)) {
        heldPaths.add(path);
        return { path, release: releaser(path, ownText) };
      }
      const holderText = readText(path);
      if (holderText === null) continue; // Released between our link and our read.
      const holderPid = pidIn(holderText);
      if (holderPid !== null && isLive(holderPid, path))
        throw new DataDirLockedError(path, holderPid);
      removeStale(path, holderText);
    }
    throw new Error(`${path}: not acquired in ${ACQUIRE_ROUND_COUNT_MAX} rounds`);
  } finally {
    unlinkSync(candidate);
  }
};
