import type { EventStore } from '../domain/ports/event-store.port';
import type { ReadModelStore } from '../domain/ports/read-model-store.port';
import { createChangeFeed, type ChangeFeed } from './change-feed';
import { createGenerationRegistry, type GenerationRecord } from './generations';
import { createProjectionRunner, type ProjectionRunner } from './projection-runner';
import { createPositionWaiters } from './position-waiters';
import type { WatchedChange } from './projection';
import { checkpointOf, collectionIn, READ_MODELS, READ_MODELS_VERSION } from './read-models';

/**
 * The read side of one process: keeps the active generation's runner following the log, answers
 * "has it passed position P?" and "how far behind is it?", rebuilds generations and switches over
 * without stopping queries, and notices a switch made by another process (the CLI).
 */
export type ReadSideLimits = {
  batchEventCountMax: number;
  /** Documents the live runner keeps between batches; absent: DEFAULT_CACHED_DOCUMENT_COUNT_MAX. */
  cachedDocumentCountMax?: number;
  /**
   * How long writes of deferrable projections (traffic users) may wait for their commit, and how
   * many documents a waiting unit may hold (projections/projection-runner.ts); absent: every
   * batch commits.
   */
  unitMsMax?: number;
  unitDocumentCountMax?: number;
  /** The live runner's least time between the starts of two batches (projection-runner.ts). */
  liveBatchGapMs?: number;
  waiterCountMax: number;
  watcherCountMax: number;
  lagEventCountMax: number;
  switchPollMs: number;
};

/** About the accounts of a busy ledger: each cached document is a few kB of heap. */
const DEFAULT_CACHED_DOCUMENT_COUNT_MAX = 20_000;

export type ReadSideOptions = {
  eventStore: EventStore;
  store: ReadModelStore;
  limits: ReadSideLimits;
  nowMs: () => number;
  /** A live runner failed (it stops; lag then grows): log it loudly. */
  onError: (error: unknown) => void;
  /** After each commit of the live generation (its watchers are served before). */
  onCommitted?: (generation: number, position: bigint, changes: readonly WatchedChange[]) => void;
};

export type Lag = {
  eventsBehind: number;
  msBehind: number;
  appliedPosition: string | null;
  headPosition: string | null;
};
export type RebuildLimit = { untilPosition: bigint | null; untilTime: string | null };
export type RebuildSummary = {
  generation: number;
  switched: boolean;
  events: number;
  seconds: number;
  eventsPerSecond: number;
};

export class RebuildInProgressError extends Error {
  override readonly name = 'RebuildInProgressError';
}

/** What the query, SSE and audit routes need of a read side, wherever its runner runs. */
export type ReadSideView = {
  readonly store: ReadModelStore;
  /** The generation queries read (0 before start). */
  activeGeneration(): number;
  generations(): Promise<GenerationRecord[]>;
  generation(generation: number): Promise<GenerationRecord | null>;
  appliedPosition(): bigint | null;
  /** True once the live runner has applied `position`; false after timeoutMs. */
  waitForPosition(position: bigint, timeoutMs: number): Promise<boolean>;
  lag(): Promise<Lag>;
  rebuild(limit: RebuildLimit): Promise<RebuildSummary>;
  rebuilding(): boolean;
  /**
   * Calls `listener` with each committed change of `stream` from the moment the returned promise
   * settles; null when watcherCountMax watchers are already registered.
   */
  watch(stream: string, listener: (change: WatchedChange) => void): Promise<(() => void) | null>;
};

/** How far the applied position trails the head of the log, in events (bounded) and time. */
export const measureLag = async (
  eventStore: EventStore,
  applied: bigint | null,
  lagEventCountMax: number,
  nowMs: () => number,
): Promise<Lag> => {
  const head = await eventStore.headPosition();
  const positions = {
    appliedPosition: applied?.toString() ?? null,
    headPosition: head?.toString() ?? null,
  };
  if (head === null || (applied !== null && applied >= head))
    return { eventsBehind: 0, msBehind: 0, ...positions };
  const behind = await eventStore.countAfter({
    afterPosition: applied,
    eventCountMax: lagEventCountMax,
  });
  const oldest = behind.firstOccurredAt;
  const msBehind = oldest === null ? 0 : Math.max(0, nowMs() - Date.parse(oldest));
  return { eventsBehind: behind.eventCount, msBehind, ...positions };
};

export type ReadSide = ReturnType<typeof createReadSide>;

export const createReadSide = (options: ReadSideOptions) => {
  const { store, eventStore, limits } = options;
  const registry = createGenerationRegistry(store);
  const feed: ChangeFeed = createChangeFeed(limits.watcherCountMax);
  const waiters = createPositionWaiters(limits.waiterCountMax);
  let live: { record: GenerationRecord; runner: ProjectionRunner; done: Promise<void> } | null =
    null;
  let rebuilding = false;
  let pollTimer: NodeJS.Timeout | null = null;
  let registryReady: Promise<void> | null = null;
  const ready = (): Promise<void> => (registryReady ??= registry.ensure());

  const runnerFor = (generation: number, isLive: boolean): ProjectionRunner =>
    createProjectionRunner({
      eventStore,
      store,
      projections: READ_MODELS,
      collectionName: (logical) => collectionIn(logical, generation),
      checkpointName: checkpointOf(generation),
      batchEventCountMax: limits.batchEventCountMax,
      cachedDocumentCountMax: limits.cachedDocumentCountMax ?? DEFAULT_CACHED_DOCUMENT_COUNT_MAX,
      ...(limits.unitMsMax === undefined ? {} : { unitMsMax: limits.unitMsMax }),
      ...(limits.unitDocumentCountMax === undefined
        ? {}
        : { unitDocumentCountMax: limits.unitDocumentCountMax }),
      ...(limits.liveBatchGapMs === undefined ? {} : { liveBatchGapMs: limits.liveBatchGapMs }),
      nowMs: options.nowMs,
      onCommitted: isLive
        ? (position, changes) => {
            waiters.passed(position);
            feed.publish(changes);
            options.onCommitted?.(generation, position, changes);
          }
        : () => undefined,
    });

  const runLive = async (record: GenerationRecord): Promise<void> => {
    await registry.ensureCollections(record.generation);
    const runner = runnerFor(record.generation, true);
    await runner.load();
    const done = (async () => {
      await runner.catchUp({ untilPosition: null, untilTime: null }, () => undefined);
      await runner.follow();
    })().catch(options.onError);
    live = { record, runner, done };
  };

  const switchLive = async (record: GenerationRecord): Promise<void> => {
    const previous = live;
    if (previous !== null) {
      await previous.runner.stop();
      await previous.done;
    }
    await runLive(record);
    // Readers elsewhere (the API thread's mirror) learn of a new generation from a commit: on an
    // idle log the new runner has none to make, so they are told now, before the old generation
    // is dropped under the queries still reading it.
    const position = live?.runner.position() ?? null;
    if (position !== null && previous?.record.generation !== record.generation) {
      waiters.passed(position);
      options.onCommitted?.(record.generation, position, []);
    }
    if (previous !== null && previous.record.generation !== record.generation)
      await registry.drop(previous.record);
  };

  const pollForSwitch = async (): Promise<void> => {
    const active = await registry.active();
    if (active === null || live === null || active === live.record.generation) return;
    const record = await registry.read(active);
    if (record !== null) await switchLive(record);
  };

  const rebuild = async (
    limit: RebuildLimit,
    onProgress: (eventCount: number, position: bigint | null) => void = () => undefined,
  ): Promise<RebuildSummary> => {
    if (rebuilding)
      throw new RebuildInProgressError('a rebuild is already running in this process');
    rebuilding = true;
    try {
      await ready();
      const startedMs = options.nowMs();
      const pointInTime = limit.untilPosition !== null || limit.untilTime !== null;
      const record = await registry.create({
        version: READ_MODELS_VERSION,
        untilPosition: limit.untilPosition?.toString() ?? null,
        untilTime: limit.untilTime,
        createdAt: new Date(startedMs).toISOString(),
      });
      const runner = runnerFor(record.generation, false);
      await runner.load();
      const events = await runner.catchUp(limit, onProgress);
      if (pointInTime) {
        await registry.mark(record, 'snapshot');
      } else {
        const activeGeneration = await registry.active();
        const previous = activeGeneration === null ? null : await registry.read(activeGeneration);
        await registry.switchTo(record, previous, new Date(options.nowMs()).toISOString());
        if (live !== null) await switchLive({ ...record, status: 'live' });
      }
      const seconds = Math.max(options.nowMs() - startedMs, 1) / 1000;
      return {
        generation: record.generation,
        switched: !pointInTime,
        events,
        seconds,
        eventsPerSecond: Math.round(events / seconds),
      };
    } finally {
      rebuilding = false;
    }
  };

  return {
    store,
    /** Loads or creates the active generation, drops retired ones and starts following. */
    start: async (): Promise<void> => {
      await ready();
      let active = await registry.active();
      if (active === null) {
        const record = await registry.create({
          version: READ_MODELS_VERSION,
          untilPosition: null,
          untilTime: null,
          createdAt: new Date(options.nowMs()).toISOString(),
        });
        await registry.switchTo(record, null, new Date(options.nowMs()).toISOString());
        active = record.generation;
      }
      const record = await registry.read(active);
      if (record === null) throw new Error(`read side: active generation ${active} has no record`);
      for (const retired of (await registry.list()).filter(
        (candidate) => candidate.status === 'retired',
      ))
        await registry.drop(retired);
      await runLive(record);
      if (record.version !== READ_MODELS_VERSION)
        void rebuild({ untilPosition: null, untilTime: null }, () => undefined).catch(
          options.onError,
        );
      pollTimer = setInterval(
        () => void pollForSwitch().catch(options.onError),
        limits.switchPollMs,
      );
      pollTimer.unref();
    },
    stop: async (): Promise<void> => {
      if (pollTimer !== null) clearInterval(pollTimer);
      waiters.cancelAll();
      if (live === null) return;
      await live.runner.stop();
      await live.done;
      live = null;
    },
    /** The generation queries read (0 before start). */
    activeGeneration: (): number => live?.record.generation ?? 0,
    generations: async () => {
      await ready();
      return registry.list();
    },
    generation: async (generation: number) => {
      await ready();
      return registry.read(generation);
    },
    /** Where a generation's runner stands (for status without a live runner: the CLI). */
    checkpointOf: (generation: number) => store.readCheckpoint(checkpointOf(generation)),
    appliedPosition: (): bigint | null => live?.runner.position() ?? null,
    /** True once the live runner has applied `position`; false after timeoutMs. */
    waitForPosition: (position: bigint, timeoutMs: number): Promise<boolean> => {
      const applied = live?.runner.position() ?? null;
      if (applied !== null && applied >= position) return Promise.resolve(true);
      const passed = waiters.wait(position, timeoutMs);
      live?.runner.requestCommit(position, timeoutMs);
      return passed;
    },
    /** A reader elsewhere (the API thread's mirror) waits for `position`: commit without delay. */
    requestCommit: (position: bigint, forMs: number): void =>
      live?.runner.requestCommit(position, forMs),
    lag: (): Promise<Lag> =>
      measureLag(
        eventStore,
        live?.runner.position() ?? null,
        limits.lagEventCountMax,
        options.nowMs,
      ),
    rebuild,
    rebuilding: (): boolean => rebuilding,
    watch: (stream: string, listener: (change: WatchedChange) => void) =>
      Promise.resolve(feed.watch(stream, listener)),
  };
};
