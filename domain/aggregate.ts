import type { Decision } from './decision';
import type { JsonObject, JsonValue } from './ports/event-store.port';

/** A domain event as deciders see it; the runtime wraps it in the stored envelope. */
export type DomainEvent = { type: string; data: JsonObject };

/** How a stream of one category is folded into a state: enough to load and read it. */
export type StreamFold<Event extends DomainEvent, State> = {
  readonly category: string;
  readonly initialState: State;
  readonly evolve: (state: State, event: Event) => State;
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
