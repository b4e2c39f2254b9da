import type { EventStore } from '../domain/ports/event-store.port';
import type { ReadModelStore } from '../domain/ports/read-model-store.port';
import { createChangeFeed } from './change-feed';
import { createGenerationRegistry } from './generations';
import { createPositionWaiters } from './position-waiters';
import type { WatchedChange } from './projection';
import {
  createReadSide,
  measureLag,
  RebuildInProgressError,
  type ReadSideOptions,
  type ReadSideView,
  type RebuildLimit,
  type RebuildSummary,
} from './read-side';

/**
 * The read side split across two threads: the host runs the projection runner (its CPU and its
 * read-model writes) wherever it is started, a worker thread in the service; the mirror lives
 * beside the API, answers queries from its own connection to the same read-model store and learns
 * of every commit by message. Only changes of streams someone watches cross over, so a busy log
 * costs the API thread one small message per committed batch.
 */
export type ToReadSideHost =
  | { kind: 'watch'; requestId: number; stream: string }
  | { kind: 'unwatch'; stream: string }
  /** A query waits for `position` (`?after=`): deferred read-model writes commit at once. */
  | { kind: 'commit'; position: bigint; forMs: number }
  | { kind: 'rebuild'; requestId: number; limit: RebuildLimit };

export type FromReadSideHost =
  | { kind: 'started'; generation: number; position: bigint | null }
  | { kind: 'committed'; generation: number; position: bigint; changes: WatchedChange[] }
  | { kind: 'watching'; requestId: number }
  | { kind: 'rebuilt'; requestId: number; summary: RebuildSummary }
  | { kind: 'rebuild_failed'; requestId: number; message: string; inProgress: boolean };

/** One end of a message channel (a worker's parentPort, a Worker, a MessagePort). */
type MessageLink<Outgoing, Incoming> = {
  post(message: Outgoing): void;
  onMessage(listener: (message: Incoming) => void): void;
};

export type ReadSideHost = { stop(): Promise<void> };

/** Starts the read side and serves a mirror over `link`; resolves once it follows the log. */
export const hostReadSide = async (
  options: Omit<ReadSideOptions, 'onCommitted'>,
  link: MessageLink<FromReadSideHost, ToReadSideHost>,
): Promise<ReadSideHost> => {
  const watched = new Set<string>();
  const readSide = createReadSide({
    ...options,
    onCommitted: (generation, position, changes) =>
      link.post({
        kind: 'committed',
        generation,
        position,
        changes: watched.size === 0 ? [] : changes.filter((change) => watched.has(change.stream)),
      }),
  });
  const rebuild = (requestId: number, limit: RebuildLimit): void => {
    readSide.rebuild(limit).then(
      (summary) => link.post({ kind: 'rebuilt', requestId, summary }),
      (error: unknown) => {
        const inProgress = error instanceof RebuildInProgressError;
        if (!inProgress) options.onError(error);
        link.post({ kind: 'rebuild_failed', requestId, message: String(error), inProgress });
      },
    );
  };
  link.onMessage((message) => {
    if (message.kind === 'watch') {
      watched.add(message.stream);
      link.post({ kind: 'watching', requestId: message.requestId });
    } else if (message.kind === 'unwatch') {
      watched.delete(message.stream);
    } else if (message.kind === 'commit') {
      readSide.requestCommit(message.position, message.forMs);
    } else {
      rebuild(message.requestId, message.limit);
    }
  });
  await readSide.start();
  link.post({
    kind: 'started',
    generation: readSide.activeGeneration(),
    position: readSide.appliedPosition(),
  });
  return { stop: () => readSide.stop() };
};

export type ReadSideMirror = ReadSideView & {
  /** Settles at the host's first 'started' message. */
  ready: Promise<void>;
  /** Settles pending waits (false) and refuses further rebuild requests. */
  close(): void;
};

type Settlers<T> = { resolve: (value: T) => void; reject: (error: Error) => void };

export const createReadSideMirror = (options: {
  store: ReadModelStore;
  eventStore: EventStore;
  limits: { waiterCountMax: number; watcherCountMax: number; lagEventCountMax: number };
  nowMs: () => number;
  link: MessageLink<ToReadSideHost, FromReadSideHost>;
}): ReadSideMirror => {
  const { store, link, limits } = options;
  const registry = createGenerationRegistry(store);
  const waiters = createPositionWaiters(limits.waiterCountMax);
  const feed = createChangeFeed(limits.watcherCountMax);
  const watchCounts = new Map<string, number>();
  const watchAcks = new Map<number, () => void>();
  /** Per watched stream: settles once the host forwards its changes. */
  const streamsReady = new Map<string, Promise<void>>();
  const rebuilds = new Map<number, Settlers<RebuildSummary>>();
  let requestCount = 0;
  let generation = 0;
  let applied: bigint | null = null;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const advance = (position: bigint | null): void => {
    if (position === null || (applied !== null && position <= applied)) return;
    applied = position;
    waiters.passed(position);
  };

  link.onMessage((message) => {
    switch (message.kind) {
      case 'started':
        generation = message.generation;
        advance(message.position);
        // A restarted host knows nothing of the streams watched here, nor of a rebuild it ran.
        for (const stream of watchCounts.keys()) link.post({ kind: 'watch', requestId: 0, stream });
        rejectRebuilds('the read side restarted during the rebuild');
        markReady();
        return;
      case 'committed':
        if (message.generation !== generation) {
          generation = message.generation;
          applied = null;
        }
        advance(message.position);
        feed.publish(message.changes);
        return;
      case 'watching':
        watchAcks.get(message.requestId)?.();
        watchAcks.delete(message.requestId);
        return;
      case 'rebuilt':
        rebuilds.get(message.requestId)?.resolve(message.summary);
        rebuilds.delete(message.requestId);
        return;
      case 'rebuild_failed': {
        const error = message.inProgress
          ? new RebuildInProgressError(message.message)
          : new Error(message.message);
        rebuilds.get(message.requestId)?.reject(error);
        rebuilds.delete(message.requestId);
      }
    }
  });

  function rejectRebuilds(reason: string): void {
    rebuilds.forEach(({ reject }) => reject(new Error(reason)));
    rebuilds.clear();
  }

  const watchOne = (stream: string): Promise<void> => {
    const count = watchCounts.get(stream) ?? 0;
    watchCounts.set(stream, count + 1);
    const known = streamsReady.get(stream);
    if (known !== undefined) return known;
    requestCount += 1;
    const requestId = requestCount;
    const acknowledged = new Promise<void>((resolve) => watchAcks.set(requestId, resolve));
    streamsReady.set(stream, acknowledged);
    link.post({ kind: 'watch', requestId, stream });
    return acknowledged;
  };

  const unwatchOne = (stream: string): void => {
    const count = (watchCounts.get(stream) ?? 0) - 1;
    if (count > 0) {
      watchCounts.set(stream, count);
      return;
    }
    watchCounts.delete(stream);
    streamsReady.delete(stream);
    link.post({ kind: 'unwatch', stream });
  };

  return {
    store,
    ready,
    activeGeneration: () => generation,
    generations: () => registry.list(),
    generation: (wanted) => registry.read(wanted),
    appliedPosition: () => applied,
    waitForPosition: (position, timeoutMs) => {
      if (applied !== null && applied >= position) return Promise.resolve(true);
      const passed = waiters.wait(position, timeoutMs);
      link.post({ kind: 'commit', position, forMs: timeoutMs });
      return passed;
    },
    lag: () => measureLag(options.eventStore, applied, limits.lagEventCountMax, options.nowMs),
    rebuild: (limit) => {
      if (rebuilds.size > 0)
        return Promise.reject(new RebuildInProgressError('a rebuild is already running'));
      requestCount += 1;
      const requestId = requestCount;
      const summary = new Promise<RebuildSummary>((resolve, reject) =>
        rebuilds.set(requestId, { resolve, reject }),
      );
      link.post({ kind: 'rebuild', requestId, limit });
      return summary;
    },
    rebuilding: () => rebuilds.size > 0,
    watch: async (stream, listener) => {
      const unwatch = feed.watch(stream, listener);
      if (unwatch === null) return null;
      await watchOne(stream);
      return () => {
        unwatch();
        unwatchOne(stream);
      };
    },
    close: () => {
      waiters.cancelAll();
      watchAcks.forEach((acknowledge) => acknowledge());
      watchAcks.clear();
      rejectRebuilds('the read side stopped');
    },
  };
};
