import { assert } from '../domain/assert';
import type { EventStore, JsonObject, RecordedEvent } from '../domain/ports/event-store.port';
import type { Checkpoint, DocumentChange, ReadModelStore } from '../domain/ports/read-model-store.port';
import type { Projection, ProjectionContext, WatchedChange } from './projection';

/**
 * Applies the global log to the projections of one generation. A batch of events becomes one
 * commit holding every document change AND the checkpoint, so after a crash the runner resumes
 * exactly after the last committed batch: nothing is skipped and nothing applied twice.
 */
export type RunnerOptions = {
  eventStore: EventStore;
  store: ReadModelStore;
  projections: readonly Projection[];
  /** Physical collection name of a logical one in this generation. */
  collectionName: (logical: string) => string;
  checkpointName: string;
  batchEventCountMax: number;
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
  catchUp(limit: CatchUpLimit, onProgress: (eventCount: number, position: bigint | null) => void): Promise<number>;
  /** Follows the log live until stop(); rejects if applying fails. */
  follow(): Promise<void>;
  stop(): Promise<void>;
};

const keyOf = (collection: string, id: string): string => `${collection}\u0000${id}`;

export const createProjectionRunner = (options: RunnerOptions): ProjectionRunner => {
  assert(options.batchEventCountMax > 0, 'runner: batchEventCountMax must be > 0');
  let applied: bigint | null = null;
  let stopping = false;
  let subscription: { close(): Promise<void> } | null = null;

  const applyBatch = async (events: readonly RecordedEvent[]): Promise<void> => {
    const last = events[events.length - 1];
    if (last === undefined) return;
    // The batch's own writes, so that a later event of the batch sees an earlier one's result.
    const written = new Map<string, DocumentChange & { kind: 'put' }>();
    const announced: WatchedChange[] = [];
    const context: ProjectionContext = {
      get: async (logical, id) => {
        const collection = options.collectionName(logical);
        return written.get(keyOf(collection, id))?.document ?? (await options.store.get(collection, id));
      },
      put: (logical, id, document: JsonObject) => {
        const collection = options.collectionName(logical);
        written.set(keyOf(collection, id), { kind: 'put', collection, id, document });
      },
      announce: (change) => announced.push(change),
    };
    for (const event of events) {
      if (applied !== null && event.position <= applied) continue; // A redelivered page.
      for (const projection of options.projections) await projection.apply(event, context);
    }
    const checkpoint: Checkpoint = { name: options.checkpointName, position: last.position, occurredAt: last.metadata.occurredAt };
    await options.store.commit([...written.values()], checkpoint);
    applied = last.position;
    options.onCommitted(last.position, announced);
  };

  const withinLimit = (event: RecordedEvent, limit: CatchUpLimit): boolean =>
    (limit.untilPosition === null || event.position <= limit.untilPosition) &&
    (limit.untilTime === null || event.metadata.occurredAt <= limit.untilTime);

  const catchUp = async (limit: CatchUpLimit, onProgress: (eventCount: number, position: bigint | null) => void): Promise<number> => {
    let count = 0;
    while (!stopping) {
      const page = await options.eventStore.readAll({ afterPosition: applied, eventCountMax: options.batchEventCountMax });
      const inside = page.filter((event) => withinLimit(event, limit));
      await applyBatch(inside);
      count += inside.length;
      onProgress(count, applied);
      if (page.length < options.batchEventCountMax || inside.length < page.length) break;
    }
    return count;
  };

  const follow = async (): Promise<void> => {
    const live = options.eventStore.subscribeToAll({ afterPosition: applied });
    subscription = live;
    let pending: RecordedEvent[] = [];
    let chain: Promise<void> = Promise.resolve();
    let scheduled = false;
    let failure: unknown = null;
    const flush = (): void => {
      scheduled = false;
      const batch = pending;
      pending = [];
      // Stopping drops the unapplied tail: the checkpoint did not pass it, so it is read again.
      if (stopping) return;
      chain = chain.then(() => applyBatch(batch));
      chain.catch((error: unknown) => {
        failure ??= error;
        void live.close();
      });
    };
    // Events of one page arrive within microtasks: a setImmediate flush batches them together.
    for await (const event of live) {
      pending.push(event);
      if (pending.length >= options.batchEventCountMax) {
        flush();
        await chain.catch(() => undefined);
      } else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      if (failure !== null) break;
    }
    if (failure === null && pending.length > 0) flush();
    await chain;
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
