import type { CommandContext } from '../domain/actors/actor-runtime';
import { parseStored, type DomainEvent, type EventCodec } from '../domain/aggregate';
import type { JsonObject } from '../domain/ports/event-store.port';

/** A ledger event as the sagas see it, whether it came over the bus or from the log. */
export type LedgerEvent = {
  id: string;
  stream: string;
  revision: number;
  type: string;
  data: JsonObject;
  /** The schema version its data was stored in: read it through parseLedgerEvent. */
  schemaVersion: number;
  occurredAt: string;
};

/** A ledger event of the fold's category as its union, through the category's codec. */
export const parseLedgerEvent = <Event extends DomainEvent>(
  fold: { readonly eventCodec: EventCodec<Event> },
  event: LedgerEvent,
): Event => parseStored(fold, { ...event, metadata: { schemaVersion: event.schemaVersion } });

/** What a step did. `wait` re-runs the step at untilMs (a timer, not an attempt). */
export type StepResult =
  | { kind: 'done'; output?: JsonObject; finish?: boolean }
  | { kind: 'wait'; untilMs: number }
  | { kind: 'transient'; reason: string }
  | { kind: 'permanent'; reason: string };

export type StepContext = {
  sagaId: string;
  input: JsonObject;
  /** Outputs of the steps completed so far, merged. */
  outputs: JsonObject;
  nowMs: number;
  /** The command context for this step; its event ids derive from `saga-<name>-<id>:<label>`. */
  commandContext: (label: string) => CommandContext;
};

export type SagaStepDefinition = {
  name: string;
  /** Every command inside uses a deterministic id, so running the step twice changes nothing. */
  run: (context: StepContext) => Promise<StepResult>;
  /** Undoes a completed step after a later one failed for good; absent: nothing to undo. */
  compensate?: (context: StepContext) => Promise<StepResult>;
};

/** What an event means to a saga: start an instance, wake one waiting on a timer, or nothing. */
export type SagaRouting =
  { kind: 'start'; sagaId: string; input: JsonObject } | { kind: 'wake'; sagaId: string } | null;

/** What an event means to a deadline-started saga: its start at atMs, or none any more. */
export type DeadlineRouting = {
  sagaId: string;
  start: { input: JsonObject; atMs: number } | null;
};

export type SagaDefinition = {
  /** Lower-case letters and underscores: the stream is saga-<name>-<sagaId>. */
  name: string;
  /** `<category>.<EventType>` of the events route() cares about. */
  triggers: readonly string[];
  route: (event: LedgerEvent) => SagaRouting;
  steps: readonly SagaStepDefinition[];
  /**
   * The first step runs at once beside the start's append instead of after it: for a first step
   * that needs nothing the saga recorded (a crash before the start is durable only runs it again).
   */
  firstStepBesideStart?: boolean;
  /**
   * False when no instance can exist for this id (a payment that is no flash-sale purchase): a
   * wake then reads no saga stream. Absent: every wake reads the saga's stream.
   */
  wakes?: (sagaId: string) => Promise<boolean>;
  /**
   * A saga the sweeper starts from the log, only once a deadline passes with its work still
   * undone (no bus consumer, nothing written before): `route` names the deadline an event sets
   * (`start`) or makes moot (`start: null`, e.g. the payment was paid first).
   */
  deadline?: {
    triggers: readonly string[];
    route: (event: LedgerEvent) => DeadlineRouting | null;
  };
  /**
   * True when the saga's work was done without it (a top-up's credit committed with the payment's
   * success): the saga is then not started and records nothing. Checked before every start.
   */
  doneWithout?: (input: JsonObject) => Promise<boolean>;
  /**
   * The log's side of `doneWithout`: an event that shows the work done (a top-up's credit
   * transfer posted) names the saga it makes moot, so that the sweeper drops that start without
   * asking `doneWithout`. An event that means nothing here answers null.
   */
  doneBy?: {
    triggers: readonly string[];
    sagaIdOf: (event: LedgerEvent) => string | null;
  };
};

/** The category of a stream: the text before its first dash. */
export const categoryOf = (stream: string): string =>
  stream.slice(0, Math.max(stream.indexOf('-'), 0));

export const triggerOf = (event: Pick<LedgerEvent, 'stream' | 'type'>): string =>
  `${categoryOf(event.stream)}.${event.type}`;

export const ok = (output: JsonObject = {}): StepResult => ({ kind: 'done', output });
export const transient = (reason: string): StepResult => ({ kind: 'transient', reason });
export const permanent = (reason: string): StepResult => ({ kind: 'permanent', reason });
