import {
  BACKWARDS,
  END,
  type EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type {
  AppendResult,
  ExpectedRevision,
  NewEvent,
  ReadDirection,
  RecordedEvent,
} from '../../../domain/ports/event-store.port';
import { collect, lastPosition } from './esdb-all-log';
import { knownPosition, toEventData, toPortError, toRecorded } from './esdb-mapping';

const conflict = (revisionActual: number | null): AppendResult => ({
  ok: false,
  reason: 'revision_conflict',
  revisionActual,
});

const matches = (expected: ExpectedRevision, revisionActual: number | null): boolean =>
  expected.kind === 'no_stream' ? revisionActual === null : expected.revision === revisionActual;

/** One page of a stream; a stream that does not exist reads as empty. */
export const readStreamPage = async (
  client: EventStoreDBClient,
  stream: string,
  options: { fromRevision: number | 'end'; direction: ReadDirection; eventCountMax: number },
): Promise<RecordedEvent[]> => {
  const { fromRevision, direction, eventCountMax } = options;
  if (eventCountMax <= 0 || (direction === 'forwards' && fromRevision === 'end')) return [];
  const read = client.readStream(stream, {
    fromRevision: fromRevision === 'end' ? END : BigInt(fromRevision),
    direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
    maxCount: eventCountMax,
  });
  try {
    const page = await collect(read);
    return page.map(toRecorded).filter((event): event is RecordedEvent => event !== null);
  } catch (error: unknown) {
    if (error instanceof StreamNotFoundError) return [];
    throw toPortError(error);
  }
};

const revisionOf = async (client: EventStoreDBClient, stream: string): Promise<number | null> => {
  const [last] = await readStreamPage(client, stream, {
    fromRevision: 'end',
    direction: 'backwards',
    eventCountMax: 1,
  });
  return last?.revision ?? null;
};

// ESDB writes nothing for an empty append, so the check is ours.
const appendNothing = async (
  client: EventStoreDBClient,
  stream: string,
  expected: ExpectedRevision,
): Promise<AppendResult> => {
  const revisionActual = await revisionOf(client, stream);
  if (!matches(expected, revisionActual)) return conflict(revisionActual);
  const head = (await lastPosition(client)) ?? 0n;
  return { ok: true, lastRevision: revisionActual ?? -1, lastPosition: head };
};

/** Appends at `expected`; ESDB makes a retry of the same ids at the same revision idempotent. */
export const appendToStream = async (
  client: EventStoreDBClient,
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
): Promise<AppendResult> => {
  if (events.length === 0) return appendNothing(client, stream, expected);
  const expectedRevision = expected.kind === 'no_stream' ? NO_STREAM : BigInt(expected.revision);
  try {
    const data = events.map(toEventData);
    const result = await client.appendToStream(stream, data, { expectedRevision });
    // A value instead of a throw only under throwOnAppendFailure=false, and then this client
    // version misreports the revision of batch appends: ask the stream instead.
    if (!result.success) return conflict(await revisionOf(client, stream));
    const lastRevision = Number(result.nextExpectedRevision);
    // An idempotent retry comes back without a position (the server sends NoPosition): the event
    // at lastRevision, maybe no longer the stream's last, still has it.
    const position =
      knownPosition(result.position) ??
      (
        await readStreamPage(client, stream, {
          fromRevision: lastRevision,
          direction: 'forwards',
          eventCountMax: 1,
        })
      )[0]?.position;
    if (position === undefined) throw new Error(`EventStoreDB: ${stream}@${lastRevision} missing`);
    return { ok: true, lastRevision, lastPosition: position };
  } catch (error: unknown) {
    if (!(error instanceof WrongExpectedVersionError)) throw toPortError(error);
    const actual = error.actualVersion; // Older servers say -1 for a missing stream.
    return conflict(actual === NO_STREAM || actual < 0n ? null : Number(actual));
  }
};
