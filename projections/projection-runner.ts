import { LRUCache } from 'lru-cache';
import { assert } from '../domain/assert';
import type { EventStore, JsonObject, RecordedEvent } from '../domain/ports/event-store.port';
import type {
  Checkpoint,
  DocumentChange,
  ReadModelStore,
} from '../domain/ports/read-model-store.port';
import type { Projection, ProjectionContext, ProjectionUnit, WatchedChange } from './projection';

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
  /**
   * How long a unit that wrote only documents of `commitDeferrable` projections, and announced
   * nothing, may stay uncommitted (absent or 0: every batch commits). A read waiting for a
   * position asks for the commit at once (`requestCommit`).
   */
  unitMsMax?: number;
  /** A deferred unit commits once it holds this many documents (its memory bound). */
  unitDocumentCountMax?: number;
  /**
   * While following, a batch starts at least this long after the previous one started (absent
   * or 0: at once), unless a reader waits for a position: under a load of small commits, what
   * arrives meanwhile joins one batch and one read-model commit, which writes each page it
   * touches (a hot account, the checkpoint, the audit heads, an index's last leaf) once for all.
   */
  liveBatchGapMs?: number;
  /** The clock of `unitMsMax` and `liveBatchGapMs`; absent: Date.now. */
  nowMs?: () => number;
  /** After each commit: the last applied position and the changes watchers may want. */
  onCommitted: (position: bigint, changes: readonly WatchedChange[]) => void;
};

export type CatchUpLimit = { untilPosition: bigint | null; untilTime: string | null };

export type ProjectionRunner = {
  /** The last committed position (null before the first event). */
  position(): bigint | null;
  /**
   * Asks for the open unit to commit without waiting out `unitMsMax`, and for later units to
   * do so until the committed position reaches `position` or `forMs` has passed.
   */
  requestCommit(position: bigint, forMs: number): void;
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

/**
 * The writes not yet committed: one batch, or several while a deferrable commit waits (each
 * document once, the last version). Reads see the unit's own writes, then the cache, then the
 * store.
 */
type Unit = {
  context: ProjectionContext;
  written: Map<string, DocumentChange & { kind: 'put' }>;
  /**
   * Puts to the collections of projections that keep their own documents, in order (a later put
   * of an id wins), never read back nor cached.
   */
  ownWrites: DocumentChange[];
  /** Collections some projection read from in this unit (never entries). */
  readCollections: Set<string>;
  announced: WatchedChange[];
  /** The batch projections' memory for this unit. */
  projectionUnits: Map<Projection, ProjectionUnit>;
  /** True once a projection that is not commitDeferrable put a document. */
  mustCommit: boolean;
  openedMs: number;
  /** The last event folded into the unit: its checkpoint. */
  last: RecordedEvent | null;
};

/** Logical collections: those whose writes may wait, those their projections keep themselves. */
type CollectionRoles = { deferrable: ReadonlySet<string>; own: ReadonlySet<string> };

const openUnit = (
  options: RunnerOptions,
  cache: DocumentCache,
  roles: CollectionRoles,
  openedMs: number,
): Unit => {
  const { deferrable, own } = roles;
  const written = new Map<string, DocumentChange & { kind: 'put' }>();
  const ownWrites: DocumentChange[] = [];
  const readCollections = new Set<string>();
  const announced: WatchedChange[] = [];
  const unit: Unit = {
    context: {
      get: async (logical, id) => {
        const collection = options.collectionName(logical);
        if (own.has(logical)) return options.store.get(collection, id);
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
        if (own.has(logical)) return options.store.getMany(collection, ids);
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
      put: (logical, id, document: JsonObject, putOptions) => {
        const collection = options.collectionName(logical);
        if (!deferrable.has(logical)) unit.mustCommit = true;
        const change: DocumentChange & { kind: 'put' } = { kind: 'put', collection, id, document };
        if (putOptions?.indexedFieldsKept === true) change.indexedFieldsKept = true;
        if (own.has(logical)) ownWrites.push(change);
        else written.set(keyOf(collection, id), change);
      },
      announce: (change) => announced.push(change),
    },
    written,
    ownWrites,
    readCollections,
    announced,
    projectionUnits: new Map(),
    mustCommit: false,
    openedMs,
    last: null,
  };
  return unit;
};

export const createProjectionRunner = (options: RunnerOptions): ProjectionRunner => {
  assert(options.batchEventCountMax > 0, 'runner: batchEventCountMax must be > 0');
  assert(options.cachedDocumentCountMax >= 0, 'runner: cachedDocumentCountMax must be >= 0');
  const unitMsMax = options.unitMsMax ?? 0;
  const unitDocumentCountMax = options.unitDocumentCountMax ?? Number.MAX_SAFE_INTEGER;
  assert(unitMsMax >= 0 && unitDocumentCountMax > 0, 'runner: unit limits must be positive');
  const nowMs = options.nowMs ?? Date.now;
  const liveBatchGapMs = options.liveBatchGapMs ?? 0;
  assert(liveBatchGapMs >= 0, 'runner: liveBatchGapMs must be >= 0');
  const cache = createDocumentCache(options.cachedDocumentCountMax);
  const collectionsWhere = (has: (projection: Projection) => boolean): Set<string> =>
    new Set(
      options.projections.flatMap((projection) =>
        has(projection) ? projection.collections.map(({ name }) => name) : [],
      ),
    );
  const roles: CollectionRoles = {
    deferrable: collectionsWhere((projection) => projection.commitDeferrable === true),
    own: collectionsWhere((projection) => projection.keepsOwnDocuments === true),
  };
  /** The last event folded, committed or in the open unit: the next read starts after it. */
  let folded: bigint | null = null;
  /** The last committed event: what queries may rely on. */
  let committed: bigint | null = null;
  let unit: Unit | null = null;
  /** Each batch projection's last committed unit: the next one may carry its memory over. */
  const committedUnits = new Map<Projection, ProjectionUnit>();
  /** A reader waits for this position until untilMs: units commit at once meanwhile. */
  let wanted: { position: bigint; untilMs: number } | null = null;
  /** While following: applies or commits what is due (set by follow, null otherwise). */
  let kick: (() => void) | null = null;
  let unitTimer: NodeJS.Timeout | null = null;
  let stopping = false;
  let subscription: { close(): Promise<void> } | null = null;

  const heldDocumentCountOf = (open: Unit): number => {
    let count = open.written.size + open.ownWrites.length;
    for (const projectionUnit of open.projectionUnits.values())
      count += projectionUnit.heldDocumentCount();
    return count;
  };

  const commitDue = (open: Unit): boolean => {
    if (unitMsMax === 0 || open.mustCommit || open.announced.length > 0) return true;
    const now = nowMs();
    if (wanted !== null && (now >= wanted.untilMs || (committed ?? -1n) >= wanted.position))
      wanted = null;
    return (
      wanted !== null ||
      now - open.openedMs >= unitMsMax ||
      heldDocumentCountOf(open) >= unitDocumentCountMax
    );
  };

  /** Folds the batch into the open unit (opening one): nothing is committed here. */
  const foldBatch = async (events: readonly RecordedEvent[]): Promise<void> => {
    // A redelivered page's events are at or below what was folded: skipped.
    const after = folded;
    const fresh = after === null ? events : events.filter((event) => event.position > after);
    const last = fresh[fresh.length - 1];
    if (last === undefined) return;
    const open = (unit ??= openUnit(options, cache, roles, nowMs()));
    for (const event of fresh)
      for (const projection of options.projections)
        if ('apply' in projection) await projection.apply(event, open.context);
    for (const projection of options.projections) {
      if (!('openUnit' in projection)) continue;
      let projectionUnit = open.projectionUnits.get(projection);
      if (projectionUnit === undefined) {
        projectionUnit = projection.openUnit(committedUnits.get(projection) ?? null);
        open.projectionUnits.set(projection, projectionUnit);
      }
      await projectionUnit.applyBatch(fresh, open.context);
    }
    open.last = last;
    folded = last.position;
  };

  /** One commit of every document the unit changed and its last event's checkpoint. */
  const commitUnit = async (): Promise<void> => {
    const open = unit;
    if (open === null || open.last === null) return;
    if (unitTimer !== null) clearTimeout(unitTimer);
    unitTimer = null;
    for (const projectionUnit of open.projectionUnits.values()) projectionUnit.flush(open.context);
    const checkpoint: Checkpoint = {
      name: options.checkpointName,
      position: open.last.position,
      occurredAt: open.last.metadata.occurredAt,
    };
    const changes: DocumentChange[] = [...open.written.values()];
    for (const change of open.ownWrites) changes.push(change);
    await options.store.commit(changes, checkpoint);
    unit = null;
    committed = open.last.position;
    for (const [projection, projectionUnit] of open.projectionUnits)
      committedUnits.set(projection, projectionUnit);
    // Only documents of collections projections read are worth keeping: entries are never read.
    // A unit that wrote more than the cache holds keeps its last ones: the rest would be evicted.
    // A skipped document may have entered the cache when this unit read it from the store: that
    // version is now stale, so it leaves.
    let skipCount = open.written.size - options.cachedDocumentCountMax;
    for (const [key, change] of open.written) {
      if (skipCount > 0) {
        skipCount -= 1;
        cache.delete(key);
      } else if (open.readCollections.has(change.collection)) cache.set(key, change.document);
      // A projection may write without reading (its memory carried over from the last unit): a
      // version it read in an earlier unit must not stay behind in the cache.
      else cache.delete(key);
    }
    options.onCommitted(open.last.position, open.announced);
  };

  /** A deferred unit commits at the end of its interval even when no event follows. */
  const armUnitTimer = (open: Unit): void => {
    if (unitTimer !== null || kick === null) return;
    unitTimer = setTimeout(
      () => {
        unitTimer = null;
        kick?.();
      },
      Math.max(1, open.openedMs + unitMsMax - nowMs()),
    );
    unitTimer.unref();
  };

  /** Folds a batch, then commits the unit if it is due; else its commit waits for the timer. */
  const applyBatch = async (events: readonly RecordedEvent[]): Promise<void> => {
    await foldBatch(events);
    if (unit === null) return;
    if (commitDue(unit)) await commitUnit();
    else armUnitTimer(unit);
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
        afterPosition: folded,
        eventCountMax: options.batchEventCountMax,
      });
      const inside = page.filter((event) => withinLimit(event, limit));
      await applyBatch(inside);
      count += inside.length;
      onProgress(count, folded);
      if (page.length < options.batchEventCountMax || inside.length < page.length) break;
      // A batch holds the thread while it applies and commits: let requests through between two.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await commitUnit();
    return count;
  };

  const follow = async (): Promise<void> => {
    const live = options.eventStore.subscribeToAll({ afterPosition: folded });
    subscription = live;
    let pending: RecordedEvent[] = [];
    let inFlight: Promise<void> | null = null;
    let scheduled = false;
    let failure: unknown = null;
    let lastBatchStartMs = Number.NEGATIVE_INFINITY;
    let gapTimer: NodeJS.Timeout | null = null;
    /** True when the batch should wait out the gap (a timer then starts it). */
    const waitsForGap = (): boolean => {
      const waitMs = lastBatchStartMs + liveBatchGapMs - nowMs();
      if (waitMs <= 0 || wanted !== null || pending.length >= options.batchEventCountMax) {
        if (gapTimer !== null) clearTimeout(gapTimer);
        gapTimer = null;
        return false;
      }
      gapTimer ??= setTimeout(() => {
        gapTimer = null;
        startBatch();
      }, waitMs);
      return true;
    };
    // One batch at a time; what arrives meanwhile becomes the next batch. Under load batches grow,
    // so commits get fewer and a document changed by many events is written once per batch.
    const startBatch = (): void => {
      // Stopping drops the unapplied tail: the checkpoint did not pass it, so it is read again.
      if (inFlight !== null || stopping || failure !== null) return;
      let work: Promise<void>;
      if (pending.length > 0) {
        if (waitsForGap()) return;
        lastBatchStartMs = nowMs();
        const batch = pending.slice(0, options.batchEventCountMax);
        pending = pending.slice(batch.length);
        work = applyBatch(batch);
      } else if (unit !== null) {
        // A timer may fire a little before the clock shows the interval over: it is set again.
        if (!commitDue(unit)) return armUnitTimer(unit);
        work = commitUnit();
      } else {
        return;
      }
      inFlight = work.then(
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
    kick = startBatch;
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
    kick = null;
    if (gapTimer !== null) clearTimeout(gapTimer);
    gapTimer = null;
    lastBatchStartMs = Number.NEGATIVE_INFINITY;
    while (inFlight !== null) await inFlight;
    if (failure !== null) throw failure;
    startBatch();
    while (inFlight !== null) await inFlight;
    if (failure !== null) throw failure;
    // What was folded is a prefix of the log: committing it spares the next runner the replay.
    await commitUnit();
  };

  return {
    position: () => committed,
    requestCommit: (position, forMs) => {
      if (committed !== null && committed >= position) return;
      const untilMs = nowMs() + forMs;
      if (wanted === null || wanted.position < position) wanted = { position, untilMs };
      kick?.();
    },
    load: async () => {
      committed = (await options.store.readCheckpoint(options.checkpointName))?.position ?? null;
      folded = committed;
    },
    catchUp,
    follow,
    stop: async () => {
      stopping = true;
      if (unitTimer !== null) clearTimeout(unitTimer);
      unitTimer = null;
      await subscription?.close();
    },
  };
};
