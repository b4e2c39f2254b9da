import { streamName, type Aggregate, type DomainEvent, type StreamFold } from '../aggregate';
import { assert } from '../assert';
import type { EventStore } from '../ports/event-store.port';
import { createActorRegistry } from './actor-registry';
import type {
  ActorEventHook,
  ActorRuntimeLimits,
  BatchAppender,
  CommandContext,
  CommandOutcome,
} from './actor-runtime.types';
import { appendWithRecords } from './stream-append';
import { createStreamActor, type StreamActor } from './stream-actor';
import { loadStream, type SnapshotOptions, type StreamSnapshot } from './stream-snapshot';

export { ConflictRetriesExhaustedError, MailboxFullError } from './actor-errors';
export type { ActorRuntimeLimits, CommandContext, CommandOutcome } from './actor-runtime.types';

export type ActorRuntime = {
  /** Runs a command through the stream's actor; resolves once its batch is durable. */
  execute<C, E extends DomainEvent, S, R extends string>(
    aggregate: Aggregate<C, E, S, R>,
    id: string,
    command: C,
    context: CommandContext,
  ): Promise<CommandOutcome<S, R>>;
  /** Current state, from the live actor or loaded from the stream (not cached if not live). */
  read<E extends DomainEvent, S>(
    aggregate: StreamFold<E, S>,
    id: string,
  ): Promise<{ state: S; revision: number | null; position: bigint | null }>;
  /** Number of actors held in memory. */
  liveActorCount(): number;
  /** Waits for in-flight appends, stops timers. */
  close(): Promise<void>;
};

type ActorRuntimeOptions = {
  /**
   * Called on batch_appended, actor_conflict, actor_dropped, snapshot_rejected and
   * snapshot_save_failed; what it throws is ignored.
   */
  onEvent?: ActorEventHook;
  /** Snapshots of aggregates that have a codec; absent: every load folds from revision 0. */
  snapshots?: SnapshotOptions;
  /** By stream category: the appender of that category's batches (absent: the event store). */
  appenders?: ReadonlyMap<string, BatchAppender>;
};

// The registry holds actors of many aggregates; each is created and read back under the same
// stream name, whose category fixes the aggregate, so the casts below restore its own types.
type AnyActor = StreamActor<unknown, unknown, string>;

export const createActorRuntime = (
  store: EventStore,
  limits: ActorRuntimeLimits,
  options: ActorRuntimeOptions = {},
): ActorRuntime => {
  assertLimits(limits);
  const snapshots = options.snapshots ?? null;
  assert(
    snapshots === null ||
      (Number.isSafeInteger(snapshots.everyEventCount) && snapshots.everyEventCount > 0),
    'snapshots.everyEventCount must be a positive integer',
  );
  const registry = createActorRegistry<AnyActor>(limits);
  const onEvent: ActorEventHook = (name, fields) => {
    try {
      options.onEvent?.(name, fields);
    } catch {
      // Observability must never wedge a mailbox: a throwing hook loses a log line, not an actor.
    }
  };
  let closed = false;
  const storeAppender: BatchAppender = ({ stream, events, expected, records }) =>
    appendWithRecords(store, stream, events, expected, records);

  const actorFor = <C, E extends DomainEvent, S, R extends string>(
    aggregate: Aggregate<C, E, S, R>,
    stream: string,
  ): StreamActor<C, S, R> => {
    const live = registry.touch(stream);
    if (live !== undefined) return live as unknown as StreamActor<C, S, R>;
    const actor: AnyActor = createStreamActor({
      store,
      aggregate,
      stream,
      limits,
      snapshots,
      onEvent,
      append: options.appenders?.get(aggregate.category) ?? storeAppender,
      onIdle: () => registry.settled(stream, actor),
    }) as unknown as AnyActor;
    registry.add(stream, actor);
    return actor as unknown as StreamActor<C, S, R>;
  };

  /** A read of a stream without a live actor: uses a snapshot, saves none. */
  const loadForRead = async <E extends DomainEvent, S>(
    aggregate: StreamFold<E, S>,
    stream: string,
  ): Promise<StreamSnapshot<S>> => {
    const loaded = await loadStream({ store, snapshots, limits, onEvent }, aggregate, stream);
    return loaded.snapshot;
  };

  return {
    execute: async (aggregate, id, command, context) => {
      assert(!closed, 'ActorRuntime.execute after close');
      const actor = actorFor(aggregate, streamName(aggregate.category, id));
      const outcome = actor.enqueue(command, context);
      registry.evictOverflow(); // After enqueue, so the new actor counts as busy.
      return outcome;
    },
    read: async <E extends DomainEvent, S>(aggregate: StreamFold<E, S>, id: string) => {
      const stream = streamName(aggregate.category, id);
      const committed = registry.peek(stream)?.committed() as StreamSnapshot<S> | null | undefined;
      const snapshot = committed ?? (await loadForRead(aggregate, stream));
      return { state: snapshot.state, revision: snapshot.revision, position: snapshot.position };
    },
    liveActorCount: () => registry.size(),
    close: async () => {
      closed = true;
      registry.stop();
      await Promise.all(registry.actors().map((actor) => actor.drained()));
    },
  };
};

const assertLimits = (limits: ActorRuntimeLimits): void => {
  const positive = (value: number): boolean => Number.isSafeInteger(value) && value > 0;
  assert(positive(limits.mailboxDepthMax), 'mailboxDepthMax must be a positive integer');
  assert(positive(limits.batchCommandCountMax), 'batchCommandCountMax must be a positive integer');
  assert(
    Number.isSafeInteger(limits.conflictRetryCountMax) && limits.conflictRetryCountMax >= 0,
    'conflictRetryCountMax must be a non-negative integer',
  );
  assert(positive(limits.actorCountMax), 'actorCountMax must be a positive integer');
  assert(positive(limits.idleMsMax), 'idleMsMax must be a positive integer');
  assert(
    positive(limits.streamLoadEventCountMax),
    'streamLoadEventCountMax must be a positive integer',
  );
};
