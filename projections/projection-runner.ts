import { LRUCache } from 'lru-cache';
import { assert } from '../domain/assert';
import type { EventStore, JsonObject, RecordedEvent } from '../domain/ports/event-store.port';
import type {
  Checkpoint,
  DocumentChange,
  ReadModelStore,
} from '../domain/ports/read-model-store.port';
import type { Projection, ProjectionContext, WatchedChange } from './projection';

/**
 * Applies the global log to the projections of one generation. A batch of events becomes one
 * commit holding every document change AND the checkpoint, so after a crash the runner resumes
 * exactly after the last committed batch: nothing is skipped and nothing applied twice.
 */
type RunnerOptions = {
  eventStore: EventStore;
  store: ReadModelStore;
  projections: readonly Projection[];
  /** Physical collection name of a logical one in this generation. */
  collectionName: (logical: string) => string;
  checkpointName: string;
  batchEventCountMax: number;
  /** Documents kept between batches for the projections' reads (0: none). */
  cachedDocumentCountMax: number;
  /** After each commit: the last applied position and the changes watchers may want. */
  onCommitted: (position: bigint, changes: readonly WatchedChange[]) => void;
};

export type CatchUpLimit = { untilPosition: bigint | null; untilTime: string | null };

export type ProjectionRunner = {
  /** The last committed position (null before the first event). */
  position(): bigint | null;
  /** Loads the stored checkpoint; call once before catchUp or follow. */
  load(): Promise<void>;
  /** Applies pages of the log until the head or the limit; returns the events applied. */
  catchUp(
    limit: CatchUpLimit,
    onProgress: (eventCount: number, position: bigint | null) => void,
  ): Promise<number>;
  /** Follows the log live until stop(); rejects if applying fails. */
  follow(): Promise<void>;
  stop(): Promise<void>;
};

const keyOf = (collection: string, id: string): string => `${collection}\u0000${id}`;

/**
 * Documents the projections read (accounts, transfers, payments, traffic), kept between batches
 * as last committed, least recently used dropped first. Without it every event costs a store
 * read and a JSON parse of a document this runner itself wrote a batch ago. It only ever holds
 * committed documents (a batch's writes enter after its commit), and the runner is the only writer
 * of its generation, so it cannot go stale. (Recency kept as a Map's insertion order, a delete and
 * a re-insert per hit, took a sixth of the read side's time under traffic reports.)
 */
const createDocumentCache = (countMax: number) => {
  const documents = countMax > 0 ? new LRUCache<string, JsonObject>({ max: countMax }) : null;
  return {
    get: (key: string): JsonObject | undefined => documents?.get(key),
    set: (key: string, document: JsonObject): void => {
      documents?.set(key, document);
    },
    delete: (key: string): void => {
      documents?.delete(key);
    },
  };
};

type DocumentCache = ReturnType<typeof createDocumentCache>;
type Batch = {
  context: ProjectionContext;
  written: Map<string, DocumentChange & { kind: 'put' }>;
  /** Collections some projection read from in this batch (never entries). */
  readCollections: Set<string>;
  announced: WatchedChange[];
};

/** One batch's context: reads see the batch's own earlier writes, then the cache, then the store. */
const createBatch = (options: RunnerOptions, cache: DocumentCache): Batch => {
  const written = new Map<string, DocumentChange & { kind: 'put' }>();
  const readCollections = new Set<string>();
  const announced: WatchedChange[] = [];
  const context: ProjectionContext = {
    get: async (logical, id) => {
      const collection = options.collectionName(logical);
      const key = keyOf(collection, id);
      readCollections.add(collection);
      const ours = written.get(key)?.document ?? cache.get(key);
      if (ours !== undefined) return ours;
      const stored = await options.store.get(collection, id);
      if (stored !== null) cache.set(key, stored);
      return stored;
    },
    getMany: async (logical, ids) => {
      const collection = options.collectionName(logical);
      readCollections.add(collection);
      const found = new Map<string, JsonObject>();
      const missing: string[] = [];
      for (const id of ids) {
        const key = keyOf(collection, id);
        const ours = written.get(key)?.document ?? cache.get(key);
        if (ours === undefined) missing.push(id);
        else found.set(id, ours);
      }
      for (const [id, stored] of await options.store.getMany(collection, missing)) {
        cache.set(keyOf(collection, id), stored);
        found.set(id, stored);
      }
      return found;
    },
    put: (logical, id, document: JsonObject) => {
      const collection = options.collectionName(logical);
      written.set(keyOf(collection, id), { kind: 'put', collection, id, document });
    },
    announce: (change) => announced.push(change),
  };
  return { context, written, readCollections, announced };
};

export const createProjectionRunner = (options: RunnerOptions): ProjectionRunner => {
  assert(options.batchEventCountMax > 0, 'runner: batchEventCountMax must be > 0');
  assert(options.cachedDocumentCountMax >= 0, 'runner: cachedDocumentCountMax must be >= 0');
  const cache = createDocumentCache(options.cachedDocumentCountMax);
  let applied: bigint | null = null;
  let stopping = false;
  let subscription: { close(): Promise<void> } | null = null;

  const applyBatch = async (events: readonly RecordedEvent[]): Promise<void> => {
    const last = events[events.length - 1];
    if (last === undefined) return;
    const batch = createBatch(options, cache);
    // A redelivered page's events are at or below the checkpoint: skipped.
    const after = applied;
    const fresh = after === null ? events : events.filter((event) => event.position > after);
    for (const event of fresh)
      for (const projection of options.projections)
        if ('apply' in projection) await projection.apply(event, batch.context);
    for (const projection of options.projections)
      if ('applyBatch' in projection) await projection.applyBatch(fresh, batch.context);
    const checkpoint: Checkpoint = {
      name: options.checkpointName,
      position: last.position,
      occurredAt: last.metadata.occurredAt,
    };
    await options.store.commit([...batch.written.values()], checkpoint);
    applied = last.position;
    // Only documents of collections projections read are worth keeping: entries are never read.
    // A batch that wrote more than the cache holds keeps its last ones: the rest would be evicted.
    // A skipped document may have entered the cache when this batch read it from the store: that
    // version is now stale, so it leaves.
    let skipCount = batch.written.size - options.cachedDocumentCountMax;
    for (const [key, change] of batch.written) {
      if (skipCount > 0) {
        skipCount -= 1;
        cache.delete(key);
      } else if (batch.readCollections.has(change.collection)) cache.set(key, change.document);
    }
    options.onCommitted(last.position, batch.announced);
  };

  const withinLimit = (event: RecordedEvent, limit: CatchUpLimit): boolean =>
    (limit.untilPosition === null || event.position <= limit.untilPosition) &&
    (limit.untilTime === null || event.metadata.occurredAt <= limit.untilTime);

  const catchUp = async (
    limit: CatchUpLimit,
    onProgress: (eventCount: number, position: bigint | null) => void,
  ): Promise<number> => {
    let count = 0;
    while (!stopping) {
      const page = await options.eventStore.readAll({
        afterPosition: applied,
        eventCountMax: options.batchEventCountMax,
      });
      const inside = page.filter((event) => withinLimit(event, limit));
      await applyBatch(inside);
      count += inside.length;
      onProgress(count, applied);
      if (page.length < options.batchEventCountMax || inside.length < page.length) break;
      // A batch holds the thread while it applies and commits: let requests through between two.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return count;
  };

  const follow = async (): Promise<void> => {
    const live = options.eventStore.subscribeToAll({ afterPosition: applied });
    subscription = live;
    let pending: RecordedEvent[] = [];
    let inFlight: Promise<void> | null = null;
    let scheduled = false;
    let failure: unknown = null;
    // One batch at a time; what arrives meanwhile becomes the next batch. Under load batches grow,
    // so commits get fewer and a document changed by many events is written once per batch.
    const startBatch = (): void => {
      // Stopping drops the unapplied tail: the checkpoint did not pass it, so it is read again.
      if (inFlight !== null || pending.length === 0 || stopping || failure !== null) return;
      const batch = pending.slice(0, options.batchEventCountMax);
      pending = pending.slice(batch.length);
      inFlight = applyBatch(batch).then(
        () => {
          inFlight = null;
          startBatch();
        },
        (error: unknown) => {
          failure ??= error;
          inFlight = null;
          void live.close();
        },
      );
    };
    // Events of one page arrive within microtasks: a setImmediate start batches them together.
    for await (const event of live) {
      pending.push(event);
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          startBatch();
        });
      }
      // Back-pressure: a full batch waiting means the log is read no further until it is applied.
      while (inFlight !== null && pending.length >= options.batchEventCountMax) await inFlight;
      if (failure !== null) break;
    }
    while (inFlight !== null) await inFlight;
    if (failure !== null) throw failure;
    startBatch();
    while (inFlight !== null) await inFlight;
    if (failure !== null) throw failure;
  };

  return {
    position: () => applied,
    load: async () => {
      applied = (await options.store.readCheckpoint(options.checkpointName))?.position ?? null;
    },
    catchUp,
    follow,
    stop: async () => {
      stopping = true;
      await subscription?.close();
    },
  };
};
