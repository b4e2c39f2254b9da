import {
  parseStored,
  readsSnapshotVersion,
  type DomainEvent,
  type SnapshotCodec,
  type StreamFold,
} from '../aggregate';
import type { ActorEventHook, ActorRuntimeLimits } from './actor-runtime.types';
import { assert } from '../assert';
import { EMPTY_CHAIN, type ChainTail } from '../event-chain';
import type { EventStore, RecordedEvent } from '../ports/event-store.port';
import type { SavedSnapshot, SnapshotStore } from '../ports/snapshot-store.port';

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

/** Saved snapshots and how often an actor saves one. */
export type SnapshotOptions = {
  store: SnapshotStore;
  /** An actor saves a snapshot once its stream is this many events past the last one. */
  everyEventCount: number;
};

/** Where a load reads from and reports to (a stream actor's options are one). */
type StreamSource = {
  store: EventStore;
  snapshots: SnapshotOptions | null;
  limits: Pick<ActorRuntimeLimits, 'streamLoadEventCountMax'>;
  onEvent: ActorEventHook;
};

type StreamLoad<State> = {
  snapshot: StreamSnapshot<State>;
  /** Revision of the saved snapshot the load started from; null when it folded from revision 0. */
  savedRevision: number | null;
};

/** The snapshot of a stream with no event. */
export const emptySnapshot = <State>(state: State): StreamSnapshot<State> => ({
  state,
  revision: null,
  position: null,
  tail: EMPTY_CHAIN,
});

/**
 * Loads a stream's state: from its saved snapshot when the aggregate has a codec and the
 * snapshot still matches the log, else from revision 0 (reporting `snapshot_rejected` with the
 * reason when a snapshot was found but not used); then folds the events after it with
 * aggregate.evolve, in pages of pageEventCountMax.
 */
export const loadStream = async <E extends DomainEvent, S>(
  source: StreamSource,
  aggregate: StreamFold<E, S>,
  stream: string,
): Promise<StreamLoad<S>> => {
  const { store, onEvent } = source;
  const snapshots = source.snapshots?.store ?? null;
  const pageEventCountMax = source.limits.streamLoadEventCountMax;
  const codec = aggregate.snapshotCodec;
  const resumed =
    codec === undefined || snapshots === null
      ? null
      : await snapshots.load(stream).then(
          (saved) => (saved === null ? null : resumeFrom(store, codec, saved)),
          // A cache that cannot be read costs a full fold, never a failed command.
          (error: unknown): Resumed<S> => ({ ok: false, reason: `unreadable: ${String(error)}` }),
        );
  if (resumed?.ok === false) onEvent('snapshot_rejected', { stream, reason: resumed.reason });
  let snapshot =
    resumed === null || !resumed.ok ? emptySnapshot(aggregate.initialState) : resumed.snapshot;
  for (;;) {
    const page = await store.readStream(stream, {
      fromRevision: snapshot.tail.nextRevision,
      direction: 'forwards',
      eventCountMax: pageEventCountMax,
    });
    assert(page.length <= pageEventCountMax, `${stream}: page longer than eventCountMax`);
    for (const event of page) snapshot = foldRecorded(aggregate, snapshot, event);
    if (page.length < pageEventCountMax) break;
  }
  return { snapshot, savedRevision: resumed?.ok === true ? resumed.snapshot.revision : null };
};

/** The state as a snapshot to save; null when the stream is empty. */
export const toSavedSnapshot = <S>(
  stream: string,
  codec: SnapshotCodec<S>,
  snapshot: StreamSnapshot<S>,
): SavedSnapshot | null =>
  snapshot.revision === null || snapshot.position === null
    ? null
    : {
        stream,
        revision: snapshot.revision,
        position: snapshot.position,
        lastHash: snapshot.tail.lastHash,
        schemaVersion: codec.schemaVersion,
        state: codec.encode(snapshot.state),
      };

type Resumed<S> = { ok: true; snapshot: StreamSnapshot<S> } | { ok: false; reason: string };

/** The saved snapshot as a starting point, if the log still holds the event it ends at. */
const resumeFrom = async <S>(
  store: EventStore,
  codec: SnapshotCodec<S>,
  saved: SavedSnapshot,
): Promise<Resumed<S>> => {
  const { stream, revision, position, lastHash, schemaVersion } = saved;
  if (!readsSnapshotVersion(codec, schemaVersion)) {
    return {
      ok: false,
      reason: `schema version ${schemaVersion}, expected ${codec.schemaVersion}`,
    };
  }
  const [anchor] = await store.readStream(stream, {
    fromRevision: revision,
    direction: 'forwards',
    eventCountMax: 1,
  });
  if (anchor?.revision !== revision) return { ok: false, reason: `no event at ${revision}` };
  if (anchor.metadata.hash !== lastHash || anchor.position !== position) {
    return { ok: false, reason: `the event at ${revision} is not the one it was saved at` };
  }
  try {
    const state = codec.decode(saved.state, schemaVersion);
    const tail = { nextRevision: revision + 1, lastHash };
    return { ok: true, snapshot: { state, revision, position, tail } };
  } catch (error: unknown) {
    return { ok: false, reason: `undecodable state: ${String(error)}` };
  }
};

const foldRecorded = <E extends DomainEvent, S>(
  aggregate: StreamFold<E, S>,
  snapshot: StreamSnapshot<S>,
  event: RecordedEvent,
): StreamSnapshot<S> => {
  const revisionExpected = snapshot.tail.nextRevision;
  assert(event.revision === revisionExpected, `${event.stream}: gap at ${revisionExpected}`);
  const domainEvent = parseStored(aggregate, event);
  return {
    state: aggregate.evolve(snapshot.state, domainEvent),
    revision: event.revision,
    position: event.position,
    tail: { nextRevision: event.revision + 1, lastHash: event.metadata.hash },
  };
};
