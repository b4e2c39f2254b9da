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
} from '@eventstore/db-client';
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

/** A commit position, or null where the server sent none. */
export const knownPosition = (position: Position | undefined): bigint | null => {
  const commit = position?.commit;
  return commit === undefined || commit < 0n || commit >= NO_POSITION_MIN ? null : commit;
};

/**
 * Our position is ESDB's commit position. To resume we pass it as both commit and prepare: an
 * append outside an explicit transaction (the only kind this adapter writes, ESDB 20+) writes each
 * event as its own implicitly committed record, whose commit position equals its prepare position.
 */
export const readPositionAfter = (afterPosition: bigint | null): ReadPosition =>
  afterPosition === null ? START : { commit: afterPosition, prepare: afterPosition };

export const toEventData = (event: NewEvent): EventData =>
  jsonEvent({ id: event.id, type: event.type, data: event.data, metadata: event.metadata });

/** The position of any resolved event, ours or the server's own, or null where it is unknown. */
export const resolvedPosition = (
  resolved: ResolvedEvent | AllStreamResolvedEvent,
): bigint | null => {
  const { commitPosition } = resolved;
  const fallback =
    commitPosition === undefined ? undefined : { commit: commitPosition, prepare: 0n };
  return knownPosition(resolved.event?.position) ?? knownPosition(fallback);
};

/** Our event, or null for what the server keeps for itself: `$` streams and types, binary data. */
export const toRecorded = (
  resolved: ResolvedEvent | AllStreamResolvedEvent,
): RecordedEvent | null => {
  const recorded = resolved.event;
  if (recorded === undefined || !recorded.isJson) return null;
  if (recorded.type.startsWith('$') || recorded.streamId.startsWith('$')) return null;
  const position = resolvedPosition(resolved);
  // Events read from a stream carry their position only from EventStoreDB 22.6 on.
  assert(
    position !== null,
    `EventStoreDB: event ${recorded.id} has no position (server older than 22.6?)`,
  );
  return {
    id: recorded.id,
    type: recorded.type,
    data: recorded.data as JsonObject,
    metadata: recorded.metadata as unknown as EventMetadata,
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
    ? new UnavailableError(`EventStoreDB unavailable: ${error.message}`, { cause: error })
    : error;
};
