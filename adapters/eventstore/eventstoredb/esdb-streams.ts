import {
  BACKWARDS,
  type CurrentStreamState,
  END,
  FORWARDS,
  type KurrentDBClient,
  NO_STREAM,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
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

export const matches = (expected: ExpectedRevision, revisionActual: number | null): boolean =>
  expected.kind === 'no_stream' ? revisionActual === null : expected.revision === revisionActual;

export const toStreamState = (expected: ExpectedRevision): typeof NO_STREAM | bigint =>
  expected.kind === 'no_stream' ? NO_STREAM : BigInt(expected.revision);

/** The stream's revision a conflict reports; older servers say -1 for a missing stream. */
export const toRevisionActual = (actual: CurrentStreamState): number | null =>
  actual === NO_STREAM || actual < 0n ? null : Number(actual);

/** One page of a stream; a stream that does not exist reads as empty. */
export const readStreamPage = async (
  client: KurrentDBClient,
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

export const revisionOf = async (
  client: KurrentDBClient,
  stream: string,
): Promise<number | null> => {
  const [last] = await readStreamPage(client, stream, {
    fromRevision: 'end',
    direction: 'backwards',
    eventCountMax: 1,
  });
  return last?.revision ?? null;
};

/** The position of the event at `revision`, which the caller knows is stored. */
export const positionAt = async (
  client: KurrentDBClient,
  stream: string,
  revision: number,
): Promise<bigint> => {
  const [event] = await readStreamPage(client, stream, {
    fromRevision: revision,
    direction: 'forwards',
    eventCountMax: 1,
  });
  if (event === undefined) throw new Error(`KurrentDB: ${stream}@${revision} missing`);
  return event.position;
};

// KurrentDB writes nothing for an empty append, so the check is ours.
const appendNothing = async (
  client: KurrentDBClient,
  stream: string,
  expected: ExpectedRevision,
): Promise<AppendResult> => {
  const revisionActual = await revisionOf(client, stream);
  if (!matches(expected, revisionActual)) return conflict(revisionActual);
  const head = (await lastPosition(client)) ?? 0n;
  return { ok: true, lastRevision: revisionActual ?? -1, lastPosition: head };
};

/** Appends at `expected`; KurrentDB makes a retry of the same ids at the same revision idempotent. */
export const appendToStream = async (
  client: KurrentDBClient,
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
): Promise<AppendResult> => {
  if (events.length === 0) return appendNothing(client, stream, expected);
  try {
    const data = events.map(toEventData);
    const result = await client.appendToStream(stream, data, {
      streamState: toStreamState(expected),
    });
    // A value instead of a throw only under throwOnAppendFailure=false, and then the client
    // misreports the revision of batch appends: ask the stream instead.
    if (!result.success) return conflict(await revisionOf(client, stream));
    const lastRevision = Number(result.nextExpectedRevision);
    // An idempotent retry comes back without a position (the server sends NoPosition): the event
    // at lastRevision, maybe no longer the stream's last, still has it.
    const position =
      knownPosition(result.position) ?? (await positionAt(client, stream, lastRevision));
    return { ok: true, lastRevision, lastPosition: position };
  } catch (error: unknown) {
    if (!(error instanceof WrongExpectedVersionError)) throw toPortError(error);
    return conflict(toRevisionActual(error.actualState));
  }
};
