/** What the registry needs to know about an actor to evict it safely. */
export type Evictable = {
  /** No work in flight and none queued. */
  isIdle(): boolean;
  /** Date.now() of the last use. */
  lastUsedMs(): number;
  /** Null when the actor holds no state (dropped or never loaded). */
  committed(): unknown;
};

/** Live actors by stream name, bounded by count (LRU) and by idle time. */
export type ActorRegistry<Actor extends Evictable> = {
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

export const createActorRegistry = <Actor extends Evictable>(limits: {
  actorCountMax: number;
  idleMsMax: number;
}): ActorRegistry<Actor> => {
  const actors = new Map<string, Actor>(); // Insertion order is recency order: the LRU.

  const evictOverflow = (): void => {
    for (const [stream, actor] of actors) {
      if (actors.size <= limits.actorCountMax) return;
      if (actor.isIdle()) actors.delete(stream); // Busy ones wait for a later pass.
    }
  };

  const sweepIdle = (): void => {
    const idleSinceMs = Date.now() - limits.idleMsMax;
    for (const [stream, actor] of actors) {
      if (actor.isIdle() && actor.lastUsedMs() <= idleSinceMs) actors.delete(stream);
    }
  };
  // One timer for all actors; unref'd so that it never keeps the process alive.
  const sweeper = setInterval(sweepIdle, limits.idleMsMax);
  sweeper.unref();

  return {
    touch: (stream) => {
      const actor = actors.get(stream);
      if (actor === undefined) return undefined;
      actors.delete(stream);
      actors.set(stream, actor);
      return actor;
    },
    peek: (stream) => actors.get(stream),
    add: (stream, actor) => {
      actors.set(stream, actor);
    },
    evictOverflow,
    settled: (stream, actor) => {
      // A dropped actor holds nothing worth keeping: the next command recreates and reloads it.
      if (actor.committed() === null && actors.get(stream) === actor) actors.delete(stream);
      evictOverflow();
    },
    size: () => actors.size,
    actors: () => [...actors.values()],
    stop: () => clearInterval(sweeper),
  };
};
