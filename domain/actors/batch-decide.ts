import { v7 as uuidv7 } from 'uuid';
import { toStored, type Aggregate, type DomainEvent, type EventCodec } from '../aggregate';
import { assert } from '../assert';
import type { RejectionDetail } from '../decision';
import { sealEvents, type UnhashedEvent } from '../event-chain';
import { deterministicEventId } from '../event-ids';
import type { NewEvent } from '../ports/event-store.port';
import type { CommandContext } from './actor-runtime.types';
import type { StreamSnapshot } from './stream-snapshot';

export type QueuedCommand<Command> = { command: Command; context: CommandContext };

/** One command's outcome before the append; its position is known only once the batch is stored. */
export type DecidedCommand<State, Rejection extends string> =
  | { ok: true; state: State; revision: number | null; eventCount: number }
  | {
      ok: false;
      rejection: Rejection;
      detail: RejectionDetail;
      state: State;
      revision: number | null;
    };

type BatchDecision<State, Rejection extends string> = {
  decided: DecidedCommand<State, Rejection>[];
  /** Every accepted event of the batch, in command order, sealed onto the stream's hash chain. */
  events: NewEvent[];
  /** The snapshot once `events` are appended; position is still the one before the append. */
  next: StreamSnapshot<State>;
};

/**
 * Decides the commands in order, each against the state left by the ones before it. Pure apart
 * from uuidv7 ids; throws whatever decide or evolve throws (an AssertionError is a bug).
 */
export const decideBatch = <C, E extends DomainEvent, S, R extends string>(
  aggregate: Aggregate<C, E, S, R>,
  stream: string,
  snapshot: StreamSnapshot<S>,
  commands: readonly QueuedCommand<C>[],
): BatchDecision<S, R> => {
  let { state, revision } = snapshot;
  const unhashed: UnhashedEvent[] = [];
  const decided = commands.map(({ command, context }): DecidedCommand<S, R> => {
    const decision = aggregate.decide(command, state);
    if (!decision.ok) {
      return { ok: false, rejection: decision.rejection, detail: decision.detail, state, revision };
    }
    const eventCount = decision.events.length;
    for (const [index, event] of decision.events.entries()) {
      state = aggregate.evolve(state, event);
      unhashed.push(toUnhashed(aggregate, event, index, context));
    }
    if (eventCount > 0) revision = (revision ?? -1) + eventCount;
    return { ok: true, state, revision, eventCount };
  });
  const sealed = sealEvents(stream, snapshot.tail, unhashed);
  // Pairs the revision bookkeeping above with the chain's own count.
  assert(sealed.tail.nextRevision === (revision ?? -1) + 1, `${stream}: batch revision drift`);
  const next = { state, revision, position: snapshot.position, tail: sealed.tail };
  return { decided, events: sealed.events, next };
};

const eventId = (seed: string | null, index: number): string =>
  seed === null ? uuidv7() : deterministicEventId(seed, index);

/** The metadata of the events a command produces: who, why and when (the hash comes later). */
export const eventMetadataOf = (context: CommandContext): UnhashedEvent['metadata'] => ({
  correlationId: context.correlationId,
  causationId: context.causationId,
  actor: { ...context.actor },
  idempotencyKey: context.idempotencyKey,
  occurredAt: context.now,
  schemaVersion: 1,
  ...(context.traceparent === undefined ? {} : { traceparent: context.traceparent }),
});

export const toUnhashed = <E extends DomainEvent>(
  fold: { readonly eventCodec: EventCodec<E> },
  event: E,
  index: number,
  context: CommandContext,
): UnhashedEvent => {
  const { data, schemaVersion } = toStored(fold, event);
  const metadata = eventMetadataOf(context);
  return {
    id: eventId(context.eventIdSeed, index),
    type: event.type,
    data,
    metadata: schemaVersion === metadata.schemaVersion ? metadata : { ...metadata, schemaVersion },
  };
};
