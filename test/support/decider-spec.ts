import type { Aggregate, DomainEvent } from '../../domain/aggregate';

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
