import {
  parseStored,
  toStored,
  type Aggregate,
  type DomainEvent,
  type EventCodec,
} from '../../domain/aggregate';

/** An event as the store would hand it back: encoded by the category's codec, then parsed. */
const storedAndRead = <Event extends DomainEvent>(
  aggregate: { readonly eventCodec: EventCodec<Event> },
  event: Event,
): Event => {
  const { data, schemaVersion } = toStored(aggregate, event);
  return parseStored(aggregate, { type: event.type, data, metadata: { schemaVersion } });
};

/** given(events).when(command).then(events) / thenRejects(code): Emmett-style decider specs. */
export const deciderSpec =
  <Command, Event extends DomainEvent, State, Rejection extends string>(
    aggregate: Aggregate<Command, Event, State, Rejection>,
  ) =>
  (history: readonly Event[]) => ({
    when: (command: Command) => {
      const state = history.reduce(aggregate.evolve, aggregate.initialState);
      const decision = aggregate.decide(command, state);
      return {
        then: (expected: readonly Event[]): void => {
          expect(decision).toEqual({ ok: true, events: expected });
          // Pairs with decide: whatever it accepted, evolve must accept on replay.
          expect(() => expected.reduce(aggregate.evolve, state)).not.toThrow();
          // And the category's codec reads back exactly what it stored.
          for (const event of expected) expect(storedAndRead(aggregate, event)).toEqual(event);
        },
        thenRejects: (rejection: Rejection): void => {
          expect(decision.ok ? 'accepted' : decision.rejection).toBe(rejection);
        },
        thenState: (check: (state: State) => void): void => {
          expect(decision.ok).toBe(true);
          if (decision.ok) check(decision.events.reduce(aggregate.evolve, state));
        },
      };
    },
  });
