import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';
import { UnavailableError } from '../../domain/ports/event-store.port';
import type { SqliteDatabase } from './open-database';

/** Flushes one file descriptor's data to the disk (fs.fdatasync; a test holds or fails it). */
export type FileSync = (fd: number, done: (error: Error | null) => void) => void;

/** What a failed sync tells whoever must stop the service. */
export type WalSyncFailure = { file: string; error: Error };

/**
 * Durable commits off the event loop for one connection whose commits run synchronous=NORMAL:
 * a COMMIT writes its WAL frames (the OS holds them: a kill -9 keeps them) without an fsync, and
 * this fdatasyncs the WAL file on the libuv thread pool. `committed()` is called right after a
 * COMMIT; its promise resolves once an fdatasync that began after that COMMIT has completed.
 * One sync at a time: commits made while one runs wait for the next, which covers all of them.
 *
 * Why one descriptor opened once stays the WAL's: while a connection holds the database open,
 * SQLite never deletes or renames `<db>-wal` (only the last connection to close deletes it, and a
 * journal_mode change, which this service never makes); it restarts the file from its start
 * after a checkpoint and may truncate it (journal_size_limit), both on the same inode. The
 * descriptor is opened after a commit (the file exists) and checked against the path's inode.
 *
 * A failed fdatasync is fail-stop: what SQLite holds in memory and what the actors decided may be
 * ahead of the disk, and a later fsync may report success over pages the kernel dropped. Every
 * waiting commit and every later one is refused (UnavailableError, 503) and the listeners of
 * onWalSyncFailure learn it once, so that the service stops and rebuilds from the disk.
 */
type WalSync = {
  /** After a COMMIT on the connection: resolves once that commit is on the disk. */
  committed(): Promise<void>;
  /** Resolves once everything committed so far is on the disk. */
  durable(): Promise<void>;
  /** Set once a sync failed: every later write must be refused with it. */
  failure(): UnavailableError | null;
  /** fdatasyncs completed (metrics, tests). */
  syncCount(): number;
  /** Whether an fdatasync is running now. */
  syncing(): boolean;
  /** Calls `listener` after each completed fdatasync, once its commits are settled. */
  afterSync(listener: () => void): void;
  /** Closes the descriptor once what was committed is durable (or its sync failed). */
  close(): Promise<void>;
};

const failureListeners = new Set<(failure: WalSyncFailure) => void>();

/** Calls `listener` when a WAL sync of any connection fails (once per connection). */
export const onWalSyncFailure = (listener: (failure: WalSyncFailure) => void): (() => void) => {
  failureListeners.add(listener);
  return () => failureListeners.delete(listener);
};

const syncs = new WeakMap<SqliteDatabase, WalSync>();

/**
 * The connection's one WAL sync (every writer of a connection shares it). `sync` replaces
 * fs.fdatasync (tests); only the first call for a connection chooses it.
 */
export const walSyncOf = (db: SqliteDatabase, options: { sync?: FileSync } = {}): WalSync => {
  const existing = syncs.get(db);
  if (existing !== undefined) return existing;
  const created = db.memory
    ? createMemorySync()
    : createWalSync(`${db.name}-wal`, options.sync ?? fdatasync);
  syncs.set(db, created);
  return created;
};

/** A database in memory has no file: a commit is as durable as it gets when it returns. */
const createMemorySync = (): WalSync => ({
  committed: () => Promise.resolve(),
  durable: () => Promise.resolve(),
  failure: () => null,
  syncCount: () => 0,
  syncing: () => false,
  afterSync: () => undefined,
  close: () => Promise.resolve(),
});

/** Opens the WAL file and checks that the descriptor is the file at the path (same inode). */
const openWal = (walPath: string): number => {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const fd = openSync(walPath, 'r+');
    if (fstatSync(fd).ino === statSync(walPath).ino) return fd;
    closeSync(fd); // Replaced between the open and the stat: open it again.
  }
  throw new Error(`${walPath}: the WAL file keeps changing under its path`);
};

const createWalSync = (walPath: string, sync: FileSync): WalSync => {
  let fd: number | null = null;
  let committedCount = 0;
  let durableCount = 0;
  let syncCount = 0;
  let inFlight: Promise<void> | null = null;
  let failed: UnavailableError | null = null;
  /** Waiters in commit order: each resolves once durableCount reaches its count. */
  const waiters: { count: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  const syncListeners: (() => void)[] = [];

  const settle = (): void => {
    let index = 0;
    while (index < waiters.length && (waiters[index]?.count ?? 0) <= durableCount) index += 1;
    waiters.splice(0, index).forEach((waiter) => waiter.resolve());
  };

  const fail = (error: Error): void => {
    failed = new UnavailableError(`WAL sync of ${walPath} failed: fail-stop`, { cause: error });
    const refused = failed;
    waiters.splice(0).forEach((waiter) => waiter.reject(refused));
    failureListeners.forEach((listener) => listener({ file: walPath, error }));
  };

  const startSync = (): void => {
    if (inFlight !== null || failed !== null || durableCount >= committedCount) return;
    try {
      fd ??= openWal(walPath);
    } catch (error: unknown) {
      // The WAL cannot be synced (gone, or no descriptor left): as a failed sync, fail-stop.
      fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const covered = committedCount; // Every commit so far returned before this sync begins.
    const descriptor = fd;
    inFlight = new Promise<void>((resolve) => {
      sync(descriptor, (error) => {
        inFlight = null;
        resolve();
        if (failed !== null) return;
        if (error !== null) {
          fail(error);
          return;
        }
        syncCount += 1;
        durableCount = covered;
        settle();
        startSync(); // Commits made while this one ran.
        syncListeners.forEach((listener) => listener());
      });
    });
  };

  const waitFor = (count: number): Promise<void> => {
    if (failed !== null) return Promise.reject(failed);
    if (count <= durableCount) return Promise.resolve();
    const waiting = new Promise<void>((resolve, reject) =>
      waiters.push({ count, resolve, reject }),
    );
    startSync();
    return waiting;
  };

  return {
    committed: () => {
      committedCount += 1;
      return waitFor(committedCount);
    },
    durable: () => waitFor(committedCount),
    failure: () => failed,
    syncCount: () => syncCount,
    syncing: () => inFlight !== null,
    afterSync: (listener) => void syncListeners.push(listener),
    close: async () => {
      await waitFor(committedCount).catch(() => undefined);
      await inFlight;
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
};
