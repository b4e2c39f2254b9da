import type { StoredResponse } from './idempotency-store.port';

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
  /** The W3C trace context of the command that wrote the event (absent: not traced). */
  traceparent?: string;
  /** How `hash` is computed (domain/event-chain.ts): 2 for events sealed since it exists; absent: 1. */
  hashVersion?: number;
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

/** One stream's part of a multi-stream append. */
export type StreamAppend = {
  stream: string;
  events: readonly NewEvent[];
  expected: ExpectedRevision;
};

/**
 * A request's Idempotency-Key record, committed in the same atomic append as the events the
 * request produced: the key and its answer become durable together or not at all.
 */
export type IdempotencyRecord = {
  /** Client, method and route template: the key is unique within its scope. */
  scope: string;
  key: string;
  /** sha256 of method, URL and the exact body bytes. */
  fingerprint: string;
  /** The answer to replay; its body's data.position is filled from `position` when read back. */
  response: StoredResponse;
  /** When the key was first used (ms since the epoch): records are kept at least the retention. */
  createdAtMs: number;
};

/** An idempotency record as stored: `position` is that of the append that wrote it. */
export type StoredIdempotencyRecord = IdempotencyRecord & { position: bigint };

export type EventsAfter = { eventCount: number; firstOccurredAt: string | null };

export type StreamAppendResult = { stream: string; lastRevision: number; lastPosition: bigint };

export type MultiAppendResult =
  | {
      ok: true;
      /** One entry per StreamAppend, in the order given. */
      streams: readonly StreamAppendResult[];
      /** The position of the append's last event (the head, for an append of no event). */
      lastPosition: bigint;
    }
  | {
      ok: false;
      reason: 'revision_conflict';
      /** The streams whose revision was not the expected one. */
      conflicts: readonly { stream: string; revisionActual: number | null }[];
    }
  | {
      ok: false;
      reason: 'idempotency_key_exists';
      /** The records already stored under a (scope, key) of this append. */
      existing: readonly StoredIdempotencyRecord[];
    };

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
  /**
   * Appends to several streams and stores the idempotency records in ONE atomic, durable commit:
   * all of it or none. Each stream must be at its expected revision and each (scope, key) new.
   * The events take consecutive global positions in the order given; a subscriber sees all of
   * them or none. When every stream is past its expected revision by exactly the events given
   * (same ids, a retry of a stored append) and no record is given, it answers as the first time.
   */
  appendMulti(
    appends: readonly StreamAppend[],
    records: readonly IdempotencyRecord[],
  ): Promise<MultiAppendResult>;
  /** The idempotency record stored under (scope, key), or null. */
  readIdempotencyRecord(scope: string, key: string): Promise<StoredIdempotencyRecord | null>;
  /** Deletes idempotency records created before createdBeforeMs; returns how many. */
  purgeIdempotencyRecords(createdBeforeMs: number): Promise<number>;
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
  /**
   * How far a reader at afterPosition trails the log: the events after it, counted up to
   * eventCountMax, and when the first of them occurred (null when there is none). Cheaper than
   * readAll: it parses no event's data.
   */
  countAfter(options: {
    afterPosition: bigint | null;
    eventCountMax: number;
  }): Promise<EventsAfter>;
  /**
   * Where each stream stands among the first eventCountMax events after afterPosition up to
   * untilPosition (inclusive): its last event there and how many it has there. Cheaper than
   * readAll: it parses no event's data (the audit checkpointer anchors stream heads with it).
   */
  readStreamHeads(options: {
    afterPosition: bigint | null;
    untilPosition: bigint;
    eventCountMax: number;
  }): Promise<StreamHeadsPage>;
  /** Releases connections and file handles. */
  close(): Promise<void>;
}

/** A stream's last event in a page of the log, and how many of the page's events are its own. */
export type StreamHeadInPage = {
  stream: string;
  revision: number;
  hash: string;
  eventCount: number;
};

export type StreamHeadsPage = {
  /** One per stream with events in the page, in the order of each one's first event there. */
  heads: readonly StreamHeadInPage[];
  eventCount: number;
  /** The page's last position (where the next page starts after); null: the page is empty. */
  lastPosition: bigint | null;
};

/**
 * Whether a stored event is the one being appended again: the same id AND the same hash (which
 * covers its type, data, metadata and place in the chain). An id alone would let a writer that
 * lost a race take another writer's event for its own and chain onto a hash never stored.
 */
export const sameEvent = (stored: NewEvent, appended: NewEvent | undefined): boolean =>
  appended !== undefined &&
  stored.id === appended.id &&
  stored.metadata.hash === appended.metadata.hash;

/** Thrown by an adapter when its backing service cannot be reached; the API answers 503. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}
