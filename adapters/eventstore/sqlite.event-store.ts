import { assert } from '../../domain/assert';
import type {
  AppendResult,
  EventStore,
  EventSubscription,
  MultiAppendResult,
} from '../../domain/ports/event-store.port';
import { openSqliteDatabase } from '../sqlite/open-database';
import { type FileSync, walSyncOf } from '../sqlite/wal-sync';
import { followLog } from './follow-log';
import { type AppendUnit, createAppendWriter, toStoreError } from './sqlite/append-writer';
import { createRecentEvents } from './sqlite/recent-events';
import { openEventTable, UNBOUNDED_POSITION } from './sqlite/event-table';
import { openIdempotencyTable } from './sqlite/idempotency-table';
import { type CommitStats, createGroupCommit } from './sqlite/group-commit';
import { createRevisionCache } from './sqlite/revision-cache';

export type { CommitStats } from './sqlite/group-commit';

export type SqliteEventStoreOptions = {
  /** A file path, or ':memory:' for a store that lives as long as the process. */
  path: string;
  /** Events written by one group-commit transaction (default 4096); an append is never split. */
  groupCommitEventCountMax?: number;
  /** Events queued, not yet committed (default 65536); past it append() throws UnavailableError. */
  pendingEventCountMax?: number;
  /** Streams whose last revision is cached in memory (default 100000). */
  revisionCacheEntryCountMax?: number;
  /** How often an idle subscription polls for other processes' appends (default 250). */
  subscriptionPollMs?: number;
  /**
   * Commits made through another connection to the same file (another thread) are announced
   * here: subscriptions wake at once instead of at their next poll. Returns the unsubscribe.
   */
  externalAppends?: (listener: () => void) => () => void;
  /**
   * The WAL size in pages past which a commit checkpoints by itself (SQLite's default 1000). A
   * service that checkpoints from another thread sets it high, as a safety net only.
   */
  walAutoCheckpointPages?: number;
  /** Called after each group commit, once it is durable (metrics, tests). */
  onCommit?: (stats: CommitStats) => void;
  /** Called after each fdatasync of the WAL (metrics: syncs per commit). */
  onSync?: () => void;
  /**
   * Called when the durable head (the highest position an fdatasync covers, the furthest any
   * reader may read) moves: what the read-side thread learns through bin/append-signal.ts.
   */
  onDurable?: (durableHead: bigint) => void;
  /** Replaces fs.fdatasync of the WAL (tests hold it or make it fail). */
  walSync?: FileSync;
  /**
   * A store that only reads a log another thread writes: that writer's durable head, read before
   * each read, bounds every read (bin/append-signal.ts). Without it the bound is this store's own.
   */
  durableHead?: () => bigint;
};

const SUBSCRIPTION_PAGE_EVENT_COUNT_MAX = 512;
/** Committed events kept in memory for live subscriptions (a few seconds of a busy log). */
const RECENT_EVENT_COUNT_MAX = 16_384;

const positive = (value: number | undefined, fallback: number, name: string): number => {
  const chosen = value ?? fallback;
  assert(Number.isSafeInteger(chosen) && chosen > 0, `createSqliteEventStore: ${name} must be > 0`);
  return chosen;
};

/** A one-stream append's answer in the single-append form. */
const toSingleResult = (result: MultiAppendResult): AppendResult => {
  if (result.ok) {
    const [only] = result.streams;
    assert(only !== undefined, 'append: one stream in, one result out');
    return { ok: true, lastRevision: only.lastRevision, lastPosition: only.lastPosition };
  }
  assert(result.reason === 'revision_conflict', 'append: no idempotency record was given');
  return {
    ok: false,
    reason: 'revision_conflict',
    revisionActual: result.conflicts[0]?.revisionActual ?? null,
  };
};

type SqliteEventStore = EventStore & {
  /**
   * Commits one row of its own table (outside the log: no event, no stream) the way appends
   * commit, fsync included: resolves when the store takes writes now, else rejects (a full disk
   * or an I/O error as UnavailableError). What readiness checks call.
   */
  probeWrite(): Promise<void>;
};

/** The default event store: one SQLite file in WAL mode, written by fsynced group commits. */
export const createSqliteEventStore = (options: SqliteEventStoreOptions): SqliteEventStore => {
  const cacheMax = positive(
    options.revisionCacheEntryCountMax,
    100_000,
    'revisionCacheEntryCountMax',
  );
  const pollMs = positive(options.subscriptionPollMs, 250, 'subscriptionPollMs');
  const db = openSqliteDatabase(options.path);
  const autoCheckpointPages = positive(
    options.walAutoCheckpointPages,
    1000,
    'walAutoCheckpointPages',
  );
  db.pragma(`wal_autocheckpoint = ${autoCheckpointPages}`);
  const table = openEventTable(db);
  const records = openIdempotencyTable(db);
  // The schema above committed under synchronous=FULL, which fsynced the whole WAL, the frames
  // a killed process left in the OS included: everything in the table now is durable. From here
  // on a commit writes without an fsync and the WAL sync makes it durable off the event loop.
  db.pragma('synchronous = NORMAL');
  const listeners = new Set<() => void>();
  const wal = walSyncOf(db, options.walSync === undefined ? {} : { sync: options.walSync });
  /** The last position this store committed, and the last one an fdatasync covers. */
  let committedHead = table.headPosition() ?? 0n;
  let durableHead = committedHead;
  options.onDurable?.(durableHead); // What is on the disk at open is readable at once.
  let syncsSeen = 0;
  const advanceDurable = (head: bigint): void => {
    const syncs = wal.syncCount();
    for (; syncsSeen < syncs; syncsSeen += 1) options.onSync?.();
    if (head <= durableHead) return;
    durableHead = head;
    options.onDurable?.(head);
    listeners.forEach((listener) => listener());
  };
  /**
   * The furthest a reader may read. Another thread's durable head, when this store only reads;
   * else this store's own; with none of its commits waiting for a sync, rows past it were
   * written by another process (a CLI), whose commits it answered after their own sync.
   */
  const readBound = (): bigint => {
    if (options.durableHead !== undefined) return options.durableHead();
    if (committedHead === durableHead) {
      const head = table.headPosition() ?? 0n;
      if (head > durableHead) {
        committedHead = head;
        advanceDurable(head);
      }
    }
    return durableHead;
  };
  /** `value` once every event it holds is durable (a read that went past the durable head). */
  const whenDurable = <T>(value: T, lastPosition: bigint | undefined): Promise<T> =>
    lastPosition === undefined || lastPosition <= durableHead
      ? Promise.resolve(value)
      : wal.durable().then(() => value);
  const cache = createRevisionCache(cacheMax);
  const recent = createRecentEvents(RECENT_EVENT_COUNT_MAX);
  const subscriptions = new Set<EventSubscription>();
  const groupCommit = createGroupCommit({
    writeBatch: createAppendWriter(db, table, records, cache, (events) => {
      recent.add(events);
      committedHead = events[events.length - 1]?.position ?? committedHead;
    }),
    durable: () => {
      const head = committedHead;
      return wal.committed().then(() => advanceDurable(head));
    },
    failure: () => wal.failure(),
    syncing: () => wal.syncing(),
    batchEventCountMax: positive(
      options.groupCommitEventCountMax,
      4096,
      'groupCommitEventCountMax',
    ),
    pendingEventCountMax: positive(options.pendingEventCountMax, 65_536, 'pendingEventCountMax'),
    onCommit: (stats) => {
      listeners.forEach((listener) => listener());
      options.onCommit?.(stats);
    },
    // The transaction rolled back, so what the cache learnt during it may be wrong.
    onFailure: (batch) =>
      batch.forEach((unit) => unit.appends.forEach((append) => cache.delete(append.stream))),
  });
  wal.afterSync(() => groupCommit.resume());
  const stopExternal =
    options.externalAppends?.(() => listeners.forEach((listener) => listener())) ?? null;
  let closed = false;
  /** Made at the first probe, so that the tools that only read the log never change its schema. */
  const probeStatement = (): { run: (probedAtMs: number) => unknown } => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY CHECK (id = 1), probed_at_ms INTEGER NOT NULL)',
    );
    return db.prepare(
      'INSERT INTO write_probe (id, probed_at_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at_ms = excluded.probed_at_ms',
    );
  };
  let probe: { run: (probedAtMs: number) => unknown } | null = null;

  const subscribeToAll = ({ afterPosition }: { afterPosition: bigint | null }) => {
    const subscription = followLog({
      afterPosition,
      pollMs,
      readPage: (after) => {
        const held = recent.after(after, SUBSCRIPTION_PAGE_EVENT_COUNT_MAX, durableHead);
        if (held !== null) return Promise.resolve(held);
        // A follower caught up with the bound (after each commit, every follower) reads nothing.
        const bound = readBound();
        if (after !== null && after >= bound) return Promise.resolve([]);
        return Promise.resolve(table.readAfter(after, SUBSCRIPTION_PAGE_EVENT_COUNT_MAX, bound));
      },
      onAppend: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    });
    subscriptions.add(subscription);
    return {
      [Symbol.asyncIterator]: () => subscription[Symbol.asyncIterator](),
      close: () => {
        subscriptions.delete(subscription);
        return subscription.close();
      },
    };
  };

  const enqueue = (unit: AppendUnit): Promise<MultiAppendResult> => {
    if (closed) return Promise.reject(new Error('sqlite event store: append after close'));
    return groupCommit.enqueue(unit);
  };

  return {
    append: (stream, events, expected) =>
      enqueue({ appends: [{ stream, events, expected }], records: [] }).then(toSingleResult),
    appendMulti: (appends, idempotencyRecords) => enqueue({ appends, records: idempotencyRecords }),
    // A replay answers only once the original is durable: its commit is one of those made so far.
    readIdempotencyRecord: (scope, key) => {
      const found = records.find(scope, key);
      return found === null ? Promise.resolve(null) : wal.durable().then(() => found);
    },
    purgeIdempotencyRecords: (createdBeforeMs) =>
      Promise.resolve(records.purgeOlderThan(createdBeforeMs)),
    // A stream's reader (an actor loading its state) gets every committed event, answered once
    // they are durable: bounding it would hide a stream's last events from the one that decides
    // on them. A store that only reads is bounded by its writer's durable head instead.
    readStream: (stream, { fromRevision, direction, eventCountMax }) => {
      const bound = options.durableHead === undefined ? UNBOUNDED_POSITION : readBound();
      if (direction === 'backwards') {
        const from = fromRevision === 'end' ? null : fromRevision;
        const events = table.readBackwards(stream, from, eventCountMax, bound);
        return whenDurable(events, events[0]?.position);
      }
      if (fromRevision === 'end') return Promise.resolve([]);
      const events = table.readForwards(stream, fromRevision, eventCountMax, bound);
      return whenDurable(events, events[events.length - 1]?.position);
    },
    readAll: ({ afterPosition, eventCountMax }) =>
      Promise.resolve(table.readAfter(afterPosition, eventCountMax, readBound())),
    subscribeToAll,
    headPosition: () => {
      const bound = readBound();
      return Promise.resolve(bound === 0n ? null : bound);
    },
    countAfter: ({ afterPosition, eventCountMax }) =>
      Promise.resolve(table.countAfter(afterPosition, eventCountMax, readBound())),
    readStreamHeads: ({ afterPosition, untilPosition, eventCountMax }) => {
      const bound = readBound();
      const until = untilPosition < bound ? untilPosition : bound;
      return Promise.resolve(table.streamHeads(afterPosition, until, eventCountMax));
    },
    probeWrite: () => {
      if (closed) return Promise.reject(new Error('sqlite event store: probe after close'));
      const failed = wal.failure();
      if (failed !== null) return Promise.reject(failed);
      try {
        probe ??= probeStatement();
        probe.run(Date.now());
      } catch (error: unknown) {
        return Promise.reject(toStoreError(error));
      }
      return wal.committed();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      groupCommit.flush(); // Every append accepted before close() is committed, not dropped.
      // ...and durable (or refused, if a sync failed) before the file closes.
      await wal.durable().catch(() => undefined);
      stopExternal?.();
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await wal.close();
      db.close();
    },
  };
};
