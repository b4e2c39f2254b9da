import type { Decision } from './decision';
import type { JsonObject, JsonValue } from './ports/event-store.port';

/** A domain event as deciders see it; the runtime wraps it in the stored envelope. */
export type DomainEvent = { type: string; data: JsonObject };

/** An event as the log holds it: its type, its stored data, and the schema version it was written in. */
export type StoredEvent = { type: string; data: JsonObject; metadata: { schemaVersion: number } };

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
  /** Its events' codec; a category without one stores the decider's data as is, as version 1. */
  readonly eventCodec?: EventCodec<Event>;
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
  readonly eventCodec?: EventCodec<Event>;
  /** How the state is saved in a snapshot; aggregates without one always fold from revision 0. */
  readonly snapshotCodec?: SnapshotCodec<State>;
};

/**
 * A state's snapshot format. `decode(encode(s))` must equal `s`; `decode` throws on anything it
 * did not write, and the loader then folds the stream from scratch. Bump `schemaVersion` whenever
 * the state's shape changes: snapshots of another version are not used.
 */
export type SnapshotCodec<State> = {
  readonly schemaVersion: number;
  readonly encode: (state: State) => JsonValue;
  readonly decode: (saved: JsonValue) => State;
};

export const streamName = (category: string, id: string): string => `${category}-${id}`;

/** The schema version events of a category are written in: their codec's, else 1. */
const UNVERSIONED = 1;

/** A domain event as it is stored: its data encoded by the category's codec, and that version. */
export const toStored = <Event extends DomainEvent>(
  fold: { readonly eventCodec?: EventCodec<Event> },
  event: Event,
): { data: JsonObject; schemaVersion: number } =>
  fold.eventCodec === undefined
    ? { data: event.data, schemaVersion: UNVERSIONED }
    : { data: fold.eventCodec.encode(event), schemaVersion: fold.eventCodec.schemaVersion };

/**
 * A stored event of the fold's category as its union: through the category's codec. Categories
 * without a codec yet are read as written (this function is then the one place that trusts it).
 */
export const parseStored = <Event extends DomainEvent>(
  fold: { readonly eventCodec?: EventCodec<Event> },
  stored: StoredEvent,
): Event =>
  fold.eventCodec === undefined
    ? ({ type: stored.type, data: stored.data } as Event)
    : fold.eventCodec.parse(stored);
