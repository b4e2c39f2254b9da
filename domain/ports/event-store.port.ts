/**
 * The event store port. Revisions are 0-based per stream (EventStoreDB's convention); positions
 * are opaque, strictly increasing bigints in the global log of one store.
 */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Who caused an event: the authenticated client, its role and the request's source address. */
export type EventActor = { clientId: string; role: string; ip: string | null };

export type EventMetadata = {
  correlationId: string;
  causationId: string | null;
  actor: EventActor;
  idempotencyKey: string | null;
  occurredAt: string;
  schemaVersion: number;
  /** sha256 hex of the previous event's hash + this event's canonical JSON (see event-chain.ts). */
  hash: string;
};

export type NewEvent = {
  id: string;
  type: string;
  data: JsonObject;
  metadata: EventMetadata;
};

export type RecordedEvent = NewEvent & {
  stream: string;
  revision: number;
  position: bigint;
};

/** Never `any`: every append states exactly what it expects to find. */
export type ExpectedRevision = { kind: 'no_stream' } | { kind: 'exact'; revision: number };

export type AppendResult =
  | { ok: true; lastRevision: number; lastPosition: bigint }
  | { ok: false; reason: 'revision_conflict'; revisionActual: number | null };

export type ReadDirection = 'forwards' | 'backwards';

export interface EventSubscription extends AsyncIterable<RecordedEvent> {
  /** Stops the subscription; a pending iteration ends. */
  close(): Promise<void>;
}

export interface EventStore {
  /**
   * Appends atomically if the stream is at `expected`. Re-appending events whose ids equal the
   * ones already written right after `expected` is idempotent and returns the original result.
   */
  append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<AppendResult>;
  /** Reads up to eventCountMax events starting at fromRevision (inclusive) in the given direction. */
  readStream(
    stream: string,
    options: { fromRevision: number | 'end'; direction: ReadDirection; eventCountMax: number },
  ): Promise<readonly RecordedEvent[]>;
  /** Reads up to eventCountMax events of the global log strictly after afterPosition (null: from the start). */
  readAll(options: {
    afterPosition: bigint | null;
    eventCountMax: number;
  }): Promise<readonly RecordedEvent[]>;
  /** Catches up from afterPosition (exclusive), then follows live appends in global order. */
  subscribeToAll(options: { afterPosition: bigint | null }): EventSubscription;
  /** The position of the last event in the global log, or null when the log is empty. */
  headPosition(): Promise<bigint | null>;
  /** Releases connections and file handles. */
  close(): Promise<void>;
}

/** Thrown by an adapter when its backing service cannot be reached; the API answers 503. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}
