import type { Decision } from './decision';
import type { JsonObject } from './ports/event-store.port';

/** A domain event as deciders see it; the runtime wraps it in the stored envelope. */
export type DomainEvent = { type: string; data: JsonObject };

/**
 * A pure decider bound to a stream category: streams are `<category>-<id>`. `decide` never does
 * I/O and never reads a clock; time and ids arrive in the command.
 */
export type Aggregate<Command, Event extends DomainEvent, State, Rejection extends string> = {
  readonly category: string;
  readonly initialState: State;
  readonly decide: (command: Command, state: State) => Decision<Event, Rejection>;
  readonly evolve: (state: State, event: Event) => State;
};

export const streamName = (category: string, id: string): string => `${category}-${id}`;
