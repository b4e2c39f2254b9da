import {
  type AllStreamResolvedEvent,
  ErrorType,
  type EventData,
  type Position,
  type ReadPosition,
  type ResolvedEvent,
  START,
  convertToCommandError,
  isCommandError,
  jsonEvent,
} from '@kurrent/kurrentdb-client';
import { assert } from '../../../domain/assert';
import {
  type EventMetadata,
  type JsonObject,
  type NewEvent,
  type RecordedEvent,
  UnavailableError,
} from '../../../domain/ports/event-store.port';

// Servers answer 2^64 - 1 (or -1 on old versions) where a position is unknown.
const NO_POSITION_MIN = 2n ** 63n;

/**
 * The streams of the adapter's own bookkeeping (one per Idempotency-Key, see esdb-idempotency.ts):
 * never our events, so reads and subscriptions of the log leave them out like system streams.
 */
export const IDEMPOTENCY_STREAM_PREFIX = 'idempotency-';

/**
 * Multi-stream appends take metadata as string properties only, and reads give the properties
 * back as a JSON object beside the server's own `$schema.*` keys: our metadata travels whole,
 * as JSON text, in this one property.
 */
const METADATA_PROPERTY = 'ledger.metadata';

/** A commit position, or null where the server sent none. */
export const knownPosition = (position: Position | undefined): bigint | null => {
  const commit = position?.commit;
  return commit === undefined || commit < 0n || commit >= NO_POSITION_MIN ? null : commit;
};

/**
 * Our position is KurrentDB's commit position. To resume we pass it as both commit and prepare:
 * an append outside an explicit transaction (the only kind this adapter writes) writes each event
 * as its own implicitly committed record, whose commit position equals its prepare position.
 */
export const readPositionAfter = (afterPosition: bigint | null): ReadPosition =>
  afterPosition === null ? START : { commit: afterPosition, prepare: afterPosition };

/** For a single-stream append, whose metadata may be any JSON. */
export const toEventData = (event: NewEvent): EventData =>
  jsonEvent({ id: event.id, type: event.type, data: event.data, metadata: event.metadata });

/** For a multi-stream append, whose metadata must be string properties. */
export const toMultiAppendEventData = (event: NewEvent): EventData =>
  jsonEvent({
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: { [METADATA_PROPERTY]: JSON.stringify(event.metadata) },
  });

const toMetadata = (stored: unknown): EventMetadata => {
  const packed =
    typeof stored === 'object' && stored !== null && METADATA_PROPERTY in stored
      ? stored[METADATA_PROPERTY]
      : undefined;
  // The cast is the boundary: the envelope's metadata is ours, written by this adapter.
  return (typeof packed === 'string' ? JSON.parse(packed) : stored) as EventMetadata;
};

/** The position of any resolved event, ours or the server's own, or null where it is unknown. */
export const resolvedPosition = (
  resolved: ResolvedEvent | AllStreamResolvedEvent,
): bigint | null => {
  const { commitPosition } = resolved;
  const fallback =
    commitPosition === undefined ? undefined : { commit: commitPosition, prepare: 0n };
  return knownPosition(resolved.event?.position) ?? knownPosition(fallback);
};

/**
 * Our event, or null for what is not: the server's `$` streams and types, binary data, and the
 * adapter's idempotency streams.
 */
export const toRecorded = (
  resolved: ResolvedEvent | AllStreamResolvedEvent,
): RecordedEvent | null => {
  const recorded = resolved.event;
  if (recorded === undefined || !recorded.isJson) return null;
  if (recorded.type.startsWith('$') || recorded.streamId.startsWith('$')) return null;
  if (recorded.streamId.startsWith(IDEMPOTENCY_STREAM_PREFIX)) return null;
  const position = resolvedPosition(resolved);
  assert(position !== null, `KurrentDB: event ${recorded.id} has no position`);
  return {
    id: recorded.id,
    type: recorded.type,
    data: recorded.data as JsonObject,
    metadata: toMetadata(recorded.metadata),
    stream: recorded.streamId,
    revision: Number(recorded.revision),
    position,
  };
};

const OUTAGES = new Set<ErrorType>([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.CANCELLED,
  ErrorType.NOT_LEADER,
]);

/** Connection trouble becomes the port's UnavailableError (503); anything else is left alone. */
export const toPortError = (error: unknown): unknown => {
  if (!(error instanceof Error) || error instanceof UnavailableError) return error;
  const converted = convertToCommandError(error); // Some client paths throw raw gRPC errors.
  const outage =
    (isCommandError(converted) && OUTAGES.has(converted.type)) ||
    error.message.startsWith('Failed to discover');
  return outage
    ? new UnavailableError(`KurrentDB unavailable: ${error.message}`, { cause: error })
    : error;
};
