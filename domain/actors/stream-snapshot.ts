import type { Aggregate, DomainEvent } from '../aggregate';
import { assert } from '../assert';
import { EMPTY_CHAIN, type ChainTail } from '../event-chain';
import type { EventStore, RecordedEvent } from '../ports/event-store.port';

/** An actor's view of its stream: folded state plus where the next append must go. */
export type StreamSnapshot<State> = {
  state: State;
  /** Revision of the last event; null when the stream is empty. */
  revision: number | null;
  /** Global position of the last event; null when the stream is empty. */
  position: bigint | null;
  /** Hash-chain tail the next event links to. */
  tail: ChainTail;
};

const emptySnapshot = <State>(state: State): StreamSnapshot<State> => ({
  state,
  revision: null,
  position: null,
  tail: EMPTY_CHAIN,
});

/** Reads the whole stream in pages of pageEventCountMax and folds it with aggregate.evolve. */
export const loadStreamSnapshot = async <C, E extends DomainEvent, S, R extends string>(
  store: EventStore,
  aggregate: Aggregate<C, E, S, R>,
  stream: string,
  pageEventCountMax: number,
): Promise<StreamSnapshot<S>> => {
  let snapshot = emptySnapshot(aggregate.initialState);
  for (;;) {
    const page = await store.readStream(stream, {
      fromRevision: snapshot.tail.nextRevision,
      direction: 'forwards',
      eventCountMax: pageEventCountMax,
    });
    assert(page.length <= pageEventCountMax, `${stream}: page longer than eventCountMax`);
    for (const event of page) snapshot = foldRecorded(aggregate, snapshot, event);
    if (page.length < pageEventCountMax) return snapshot;
  }
};

const foldRecorded = <C, E extends DomainEvent, S, R extends string>(
  aggregate: Aggregate<C, E, S, R>,
  snapshot: StreamSnapshot<S>,
  event: RecordedEvent,
): StreamSnapshot<S> => {
  const revisionExpected = snapshot.tail.nextRevision;
  assert(event.revision === revisionExpected, `${event.stream}: gap at ${revisionExpected}`);
  // The narrow boundary: stored events were written by this aggregate's decider (upcasting, when
  // schemas evolve, belongs in evolve).
  const domainEvent = { type: event.type, data: event.data } as E;
  return {
    state: aggregate.evolve(snapshot.state, domainEvent),
    revision: event.revision,
    position: event.position,
    tail: { nextRevision: event.revision + 1, lastHash: event.metadata.hash },
  };
};
