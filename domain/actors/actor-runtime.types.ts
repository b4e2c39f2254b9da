import type { RejectionDetail } from '../decision';
import type {
  AppendResult,
  EventActor,
  ExpectedRevision,
  IdempotencyRecord,
  NewEvent,
} from '../ports/event-store.port';

/** Who asked, why and when: copied into the metadata of every event a command produces. */
export type CommandContext = {
  correlationId: string;
  causationId: string | null;
  actor: EventActor;
  idempotencyKey: string | null;
  /** ISO-8601 instant supplied by the caller: stored as metadata.occurredAt. */
  now: string;
  /**
   * When set, event ids are uuidv5(`${eventIdSeed}:${index}`) (index 0.. within this command's
   * events), so a retried command re-appends the SAME ids; otherwise uuidv7.
   */
  eventIdSeed: string | null;
  /** The W3C trace context of the command (absent: not traced), stored with its events. */
  traceparent?: string;
  /**
   * Records committed in the same atomic append as this command's events (e.g. a callback's
   * replay key), so that both are durable or neither; a command that appends nothing writes none.
   */
  records?: readonly IdempotencyRecord[];
};

/**
 * revision/position are those of the stream's last event after the command (null: stream empty).
 * position is the global position of the append that made the command durable, so a reader that
 * waits for it sees the command's events.
 */
export type CommandOutcome<State, Rejection extends string> =
  | { ok: true; state: State; revision: number | null; position: bigint | null; eventCount: number }
  | {
      ok: false;
      rejection: Rejection;
      detail: RejectionDetail;
      state: State;
      revision: number | null;
      position: bigint | null;
    };

export type ActorRuntimeLimits = {
  /** Queued commands per actor; over it execute rejects with MailboxFullError. */
  mailboxDepthMax: number;
  /** Commands decided together into one append. */
  batchCommandCountMax: number;
  /** Reload + re-decide attempts on revision_conflict before ConflictRetriesExhaustedError. */
  conflictRetryCountMax: number;
  /** LRU bound on live actors, so memory stays flat however many aggregates are touched. */
  actorCountMax: number;
  /** Actors idle longer than this are passivated. */
  idleMsMax: number;
  /** Page size when loading a stream; pages are loaded until the stream ends. */
  streamLoadEventCountMax: number;
};

/** Logging/metrics hook: the runtime stays free of winston and prom-client. */
export type ActorEventHook = (name: string, fields: Record<string, unknown>) => void;

/** One stream actor's decided batch, sealed onto its chain, as it is to be made durable. */
export type BatchAppend = {
  stream: string;
  events: readonly NewEvent[];
  expected: ExpectedRevision;
  /** The batch's commands' records (a callback's replay key): committed with the events. */
  records: readonly IdempotencyRecord[];
  /** The stream's state once the events are applied. */
  stateAfter: unknown;
  /** The context of the batch's first command that produced events. */
  context: CommandContext;
};

/**
 * Makes a batch durable in ONE atomic commit. The default appends to the event store; a category
 * may route it through another single writer that adds its own streams to the same commit (a
 * top-up payment's success goes through the ledger, which adds the wallet credit).
 */
export type BatchAppender = (append: BatchAppend) => Promise<AppendResult>;
