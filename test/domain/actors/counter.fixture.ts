import { versionedEventCodec, type Aggregate } from '../../../domain/aggregate';
import { assert, AssertionError } from '../../../domain/assert';
import { accept, reject, type Decision } from '../../../domain/decision';
import { countField, jsonObject } from '../../../domain/json-fields';
import type { ActorRuntimeLimits, CommandContext } from '../../../domain/actors/actor-runtime';

/** A tiny aggregate that exercises every path of the runtime: events, rejections, no-ops, bugs. */
export type CounterCommand =
  | { type: 'Increment'; by: number }
  | { type: 'IncrementEach'; steps: number[] }
  | { type: 'Decrement'; by: number }
  | { type: 'Touch' }
  | { type: 'Explode' };
type CounterEvent =
  { type: 'Incremented'; data: { by: number } } | { type: 'Decremented'; data: { by: number } };
type CounterState = { total: number; eventCount: number };
type CounterRejection = 'counter_would_go_negative';

const decide = (
  command: CounterCommand,
  state: CounterState,
): Decision<CounterEvent, CounterRejection> => {
  switch (command.type) {
    case 'Increment':
      return accept<CounterEvent>({ type: 'Incremented', data: { by: command.by } });
    case 'IncrementEach':
      return accept<CounterEvent>(
        ...command.steps.map((by): CounterEvent => ({ type: 'Incremented', data: { by } })),
      );
    case 'Decrement':
      if (command.by > state.total) return reject<CounterRejection>('counter_would_go_negative');
      return accept<CounterEvent>({ type: 'Decremented', data: { by: command.by } });
    case 'Touch':
      return accept<CounterEvent>();
    case 'Explode':
      assert(false, 'Explode: a decider bug');
  }
};

const evolve = (state: CounterState, event: CounterEvent): CounterState => {
  const sign = event.type === 'Incremented' ? 1 : -1;
  const total = state.total + sign * event.data.by;
  assert(total >= 0, `${event.type}: total negative`);
  return { total, eventCount: state.eventCount + 1 };
};

const counterEventCodec = versionedEventCodec<CounterEvent>({
  upcasters: [],
  encode: (event) => event.data,
  parse: (type, data) => {
    if (type !== 'Incremented' && type !== 'Decremented')
      throw new AssertionError(`counter: unknown event type ${type}`);
    return { type, data: { by: countField(data, 'by') } };
  },
});

const counterIn = (
  category: string,
): Aggregate<CounterCommand, CounterEvent, CounterState, CounterRejection> => ({
  category,
  initialState: { total: 0, eventCount: 0 },
  decide,
  evolve,
  eventCodec: counterEventCodec,
});

export const counter = counterIn('counter');
/** The counter with a snapshot codec (counter itself has none). */
export const snapshottedCounter: typeof counter = {
  ...counterIn('snapcounter'),
  snapshotCodec: {
    schemaVersion: 1,
    encode: (state) => ({ ...state }),
    decode: (saved) => {
      const state = jsonObject(saved, 'counter snapshot');
      return { total: countField(state, 'total'), eventCount: countField(state, 'eventCount') };
    },
  },
};
/** The same decider under another category, to share one runtime between two aggregates. */
export const tally = counterIn('tally');

export const increment = (by = 1): CounterCommand => ({ type: 'Increment', by });

export const context = (overrides: Partial<CommandContext> = {}): CommandContext => ({
  correlationId: 'correlation-1',
  causationId: null,
  actor: { clientId: 'client-1', role: 'admin', ip: '127.0.0.1' },
  idempotencyKey: null,
  now: '2025-01-01T00:00:00.000Z',
  eventIdSeed: null,
  ...overrides,
});

export const limits = (overrides: Partial<ActorRuntimeLimits> = {}): ActorRuntimeLimits => ({
  mailboxDepthMax: 1_000,
  batchCommandCountMax: 100,
  conflictRetryCountMax: 3,
  actorCountMax: 1_000,
  idleMsMax: 60_000,
  streamLoadEventCountMax: 100,
  ...overrides,
});
