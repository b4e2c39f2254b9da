import { assert } from '../assert';

/** What the registry needs to know about an actor to evict it safely. */
type Evictable = {
  /** No work in flight and none queued. */
  isIdle(): boolean;
  /** Date.now() of the last use. */
  lastUsedMs(): number;
  /** Null when the actor holds no state (dropped or never loaded). */
  committed(): unknown;
};

/** Live actors by stream name, bounded by count (LRU) and by idle time. */
type ActorRegistry<Actor extends Evictable> = {
  /** The live actor of a stream, now marked most recently used. */
  touch(stream: string): Actor | undefined;
  /** The live actor of a stream, recency unchanged. */
  peek(stream: string): Actor | undefined;
  /** Registers a new actor as the most recently used; call evictOverflow once it has work. */
  add(stream: string, actor: Actor): void;
  /** Evicts idle actors, least recently used first, down to actorCountMax when possible. */
  evictOverflow(): void;
  /** Called when an actor's mailbox drained: forgets it if it was dropped, then evicts. */
  settled(stream: string, actor: Actor): void;
  /** Number of live actors. */
  size(): number;
  /** Every live actor. */
  actors(): Actor[];
  /** Stops the idle sweeper. */
  stop(): void;
};

/** A live actor in the recency list: `older` towards the least recently used end. */
type Entry<Actor> = {
  stream: string;
  actor: Actor;
  older: Entry<Actor> | null;
  newer: Entry<Actor> | null;
};

/**
 * The LRU is a Map for lookup plus a doubly linked list for recency, so a touch and an eviction
 * are O(1) and never change the Map. Keeping recency as the Map's insertion order (a delete and a
 * re-insert on every touch) cost, in a micro-benchmark of 110,000 actors, 13 µs per transfer
 * across 10,000 accounts and 210 µs when every transfer touched one hot account; this list costs
 * about 1 µs for either.
 */
export const createActorRegistry = <Actor extends Evictable>(limits: {
  actorCountMax: number;
  idleMsMax: number;
}): ActorRegistry<Actor> => {
  const entries = new Map<string, Entry<Actor>>();
  let oldest: Entry<Actor> | null = null;
  let newest: Entry<Actor> | null = null;

  const unlink = (entry: Entry<Actor>): void => {
    if (entry.older === null) oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === null) newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = null;
    entry.newer = null;
  };
  const append = (entry: Entry<Actor>): void => {
    entry.older = newest;
    if (newest === null) oldest = entry;
    else newest.newer = entry;
    newest = entry;
  };
  const remove = (entry: Entry<Actor>): void => {
    unlink(entry);
    entries.delete(entry.stream);
  };

  const evictOverflow = (): void => {
    let entry = oldest;
    while (entry !== null && entries.size > limits.actorCountMax) {
      const next: Entry<Actor> | null = entry.newer;
      if (entry.actor.isIdle()) remove(entry); // Busy ones wait for a later pass.
      entry = next;
    }
  };

  const sweepIdle = (): void => {
    const idleSinceMs = Date.now() - limits.idleMsMax;
    let entry = oldest;
    while (entry !== null) {
      const next: Entry<Actor> | null = entry.newer;
      const { actor } = entry;
      if (actor.isIdle() && actor.lastUsedMs() <= idleSinceMs) remove(entry);
      entry = next;
    }
  };
  // One timer for all actors; unref'd so that it never keeps the process alive.
  const sweeper = setInterval(sweepIdle, limits.idleMsMax);
  sweeper.unref();

  return {
    touch: (stream) => {
      const entry = entries.get(stream);
      if (entry === undefined) return undefined;
      unlink(entry);
      append(entry);
      return entry.actor;
    },
    peek: (stream) => entries.get(stream)?.actor,
    add: (stream, actor) => {
      assert(!entries.has(stream), `actor registry: ${stream} added twice`);
      const entry: Entry<Actor> = { stream, actor, older: null, newer: null };
      entries.set(stream, entry);
      append(entry);
    },
    evictOverflow,
    settled: (stream, actor) => {
      // A dropped actor holds nothing worth keeping: the next command recreates and reloads it.
      const entry = entries.get(stream);
      if (actor.committed() === null && entry?.actor === actor) remove(entry);
      evictOverflow();
    },
    size: () => entries.size,
    actors: () => [...entries.values()].map((entry) => entry.actor),
    stop: () => clearInterval(sweeper),
  };
};
