import { assert, AssertionError } from './assert';
import type { Decision } from './decision';
import type { JsonObject, JsonValue } from './ports/event-store.port';

/** A domain event as deciders see it; the runtime wraps it in the stored envelope. */
export type DomainEvent = { type: string; data: JsonObject };

/**
 * An event as the log holds it: its type, its stored data, and the schema version it was written
 * in; read from a stream, also where (named when it cannot be parsed).
 */
export type StoredEvent = {
  type: string;
  data: JsonObject;
  metadata: { schemaVersion: number };
  stream?: string;
  revision?: number;
};

/**
 * How a category's events are stored: the one parser that turns a stored event back into the
 * union, checking its fields and upcasting older schema versions, and the encoder of the version
 * written now. `parse` throws (an AssertionError naming the field) on anything it cannot read.
 */
export type EventCodec<Event extends DomainEvent> = {
  readonly schemaVersion: number;
  readonly encode: (event: Event) => JsonObject;
  readonly parse: (stored: StoredEvent) => Event;
};

/** How a stream of one category is folded into a state: enough to load and read it. */
export type StreamFold<Event extends DomainEvent, State> = {
  readonly category: string;
  readonly initialState: State;
  readonly evolve: (state: State, event: Event) => State;
  /** The one parser of its stored events (and their encoder). */
  readonly eventCodec: EventCodec<Event>;
  /** How the state is saved in a snapshot; folds without one always start from revision 0. */
  readonly snapshotCodec?: SnapshotCodec<State>;
};

/**
 * A pure decider bound to a stream category: streams are `<category>-<id>`. `decide` never does
 * I/O and never reads a clock; time and ids arrive in the command.
 */
export type Aggregate<Command, Event extends DomainEvent, State, Rejection extends string> = {
  readonly category: string;
  readonly initialState: State;
  readonly decide: (command: Command, state: State) => Decision<Event, Rejection>;
  readonly evolve: (state: State, event: Event) => State;
  readonly eventCodec: EventCodec<Event>;
  /** How the state is saved in a snapshot; aggregates without one always fold from revision 0. */
  readonly snapshotCodec?: SnapshotCodec<State>;
};

/**
 * A state's snapshot format. `decode(encode(s))` must equal `s`; `decode` throws on anything it
 * did not write, and the loader then folds the stream from scratch. Bump `schemaVersion` whenever
 * the state's shape changes: snapshots of another version are not used, unless it is one of
 * `olderVersionsRead`, which `decode` reads (given the saved snapshot's version).
 */
export type SnapshotCodec<State> = {
  readonly schemaVersion: number;
  readonly olderVersionsRead?: readonly number[];
  readonly encode: (state: State) => JsonValue;
  /** schemaVersion: the saved snapshot's, one of olderVersionsRead; absent: the current one. */
  readonly decode: (saved: JsonValue, schemaVersion?: number) => State;
};

/** Whether the codec reads snapshots saved with schemaVersion (its own, or an older one it names). */
export const readsSnapshotVersion = <State>(
  codec: SnapshotCodec<State>,
  schemaVersion: number,
): boolean =>
  schemaVersion === codec.schemaVersion ||
  (codec.olderVersionsRead?.includes(schemaVersion) ?? false);

export const streamName = (category: string, id: string): string => `${category}-${id}`;

/**
 * One step of a category's upcast chain: the data of an event stored in version n as version n + 1
 * writes it. Old events are never rewritten; they are upcast here each time they are read.
 */
type Upcaster = (type: string, data: JsonObject) => JsonObject;

/**
 * A codec from its upcast chain and its parser of the version written now. `upcasters[i]` takes
 * version i + 1 to i + 2, so the version written now is `upcasters.length + 1`; a stored event
 * goes up the chain from its own version, then `parse` checks every field of the result. A
 * version newer than the chain (written by a later release) is refused, never guessed at.
 */
export const versionedEventCodec = <Event extends DomainEvent>(spec: {
  readonly upcasters: readonly Upcaster[];
  readonly encode: (event: Event) => JsonObject;
  readonly parse: (type: string, data: JsonObject) => Event;
}): EventCodec<Event> => {
  const schemaVersion = spec.upcasters.length + 1;
  return {
    schemaVersion,
    encode: spec.encode,
    parse: ({ type, data, metadata }) => {
      const stored = metadata.schemaVersion;
      assert(
        Number.isSafeInteger(stored) && stored >= 1 && stored <= schemaVersion,
        `unknown schemaVersion ${stored} (read: 1 to ${schemaVersion})`,
      );
      const upcast = spec.upcasters.slice(stored - 1).reduce((at, up) => up(type, at), data);
      return spec.parse(type, upcast);
    },
  };
};

/** A domain event as it is stored: its data encoded by the category's codec, and that version. */
export const toStored = <Event extends DomainEvent>(
  fold: { readonly eventCodec: EventCodec<Event> },
  event: Event,
): { data: JsonObject; schemaVersion: number } => ({
  data: fold.eventCodec.encode(event),
  schemaVersion: fold.eventCodec.schemaVersion,
});

/**
 * A stored event of the fold's category as its union, through the category's codec: the one way
 * projections, sagas, the audit and the CLI read an event. An event the codec cannot read is
 * refused with an AssertionError naming its stream, revision, type, version and the field.
 */
export const parseStored = <Event extends DomainEvent>(
  fold: { readonly eventCodec: EventCodec<Event> },
  stored: StoredEvent,
): Event => {
  try {
    return fold.eventCodec.parse(stored);
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    const where = `${stored.stream ?? '(no stream)'} revision ${stored.revision ?? '?'}`;
    const what = `${stored.type} schemaVersion ${stored.metadata.schemaVersion}`;
    throw new AssertionError(`malformed event at ${where} (${what}): ${error.message}`, {
      cause: error,
    });
  }
};
