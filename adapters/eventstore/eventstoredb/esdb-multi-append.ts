import { sameEvent } from '../../../domain/ports/event-store.port';
import {
  type AppendStreamRequest,
  type AppendStreamState,
  type KurrentDBClient,
  NO_STREAM,
  UnsupportedError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import {
  type ExpectedRevision,
  type IdempotencyRecord,
  type MultiAppendResult,
  type StoredIdempotencyRecord,
  type StreamAppend,
} from '../../../domain/ports/event-store.port';
import { lastPosition as headPosition } from './esdb-all-log';
import {
  type LastEventAt,
  appendPosition,
  idempotencyStream,
  readIdempotencyRecord,
  readKeyEventPosition,
  toRecordEventData,
} from './esdb-idempotency';
import { toMultiAppendEventData, toPortError } from './esdb-mapping';
import {
  matches,
  positionAt,
  readStreamPage,
  revisionOf,
  toRevisionActual,
  toStreamState,
} from './esdb-streams';

const MULTI_STREAM_APPEND_REQUIRED =
  'KurrentDB 25.1 or later is required: this server has no multi-stream append';

/** The client's UnsupportedError says the server lacks the call; anything else passes through. */
const explainUnsupported = (error: unknown): unknown =>
  error instanceof UnsupportedError
    ? new Error(`${MULTI_STREAM_APPEND_REQUIRED} (${error.message})`, { cause: error })
    : toPortError(error);

/**
 * Fails unless the server has multi-stream append. The client asks the server's features first
 * and throws UnsupportedError without sending anything when the call is missing; a server that
 * has it refuses an append of no stream (and writes nothing), which proves the call is there.
 */
export const checkMultiStreamAppend = async (client: KurrentDBClient): Promise<void> => {
  try {
    await client.multiStreamAppend([]);
  } catch (error: unknown) {
    // An UnsupportedError, or an outage (UnavailableError, to be checked again), stops here.
    const explained = explainUnsupported(error);
    if (explained !== error) throw explained;
  }
};

type Last = { revision: number; position: bigint };

const firstRevision = (expected: ExpectedRevision): number =>
  expected.kind === 'no_stream' ? 0 : expected.revision + 1;

const maxPosition = (lasts: readonly (Last | null)[]): bigint | null =>
  lasts.reduce<bigint | null>(
    (max, last) => (last !== null && (max === null || last.position > max) ? last.position : max),
    null,
  );

/** The answer for streams whose last events are `lasts` (null: a stream without events). */
const succeeded = (
  appends: readonly StreamAppend[],
  lasts: readonly (Last | null)[],
  lastPosition: bigint,
): MultiAppendResult => {
  const streams = appends.map(({ stream, expected }, index) => {
    const last = lasts[index] ?? null;
    if (last !== null) return { stream, lastRevision: last.revision, lastPosition: last.position };
    // A stream without events was found at its expected revision.
    const lastRevision = expected.kind === 'no_stream' ? -1 : expected.revision;
    return { stream, lastRevision, lastPosition };
  });
  return { ok: true, streams, lastPosition };
};

const conflictsOf = async (client: KurrentDBClient, appends: readonly StreamAppend[]) => {
  const revisions = await Promise.all(appends.map(({ stream }) => revisionOf(client, stream)));
  return appends.flatMap(({ stream, expected }, index) => {
    const revisionActual = revisions[index] ?? null;
    return matches(expected, revisionActual) ? [] : [{ stream, revisionActual }];
  });
};

/**
 * A stored append's last event when the stream holds exactly `events` after `expected`, null for
 * a stream without events still at `expected`; undefined when the stream is no retry.
 */
const storedRetry = async (
  client: KurrentDBClient,
  { stream, events, expected }: StreamAppend,
): Promise<Last | null | undefined> => {
  if (events.length === 0)
    return matches(expected, await revisionOf(client, stream)) ? null : undefined;
  const stored = await readStreamPage(client, stream, {
    fromRevision: firstRevision(expected),
    direction: 'forwards',
    eventCountMax: events.length,
  });
  const same =
    stored.length === events.length && stored.every((event, i) => sameEvent(event, events[i]));
  const last = stored.at(-1);
  return same && last !== undefined
    ? { revision: last.revision, position: last.position }
    : undefined;
};

/**
 * Why an append was refused, read back from the streams: revision conflicts first (or, without
 * records, a retry of a stored append), then keys already recorded. Null when neither explains it.
 */
const refusal = async (
  client: KurrentDBClient,
  appends: readonly StreamAppend[],
  records: readonly IdempotencyRecord[],
): Promise<MultiAppendResult | null> => {
  const conflicts = await conflictsOf(client, appends);
  if (conflicts.length > 0) {
    if (records.length === 0) {
      const stored = await Promise.all(appends.map((part) => storedRetry(client, part)));
      const lasts = stored.flatMap((last) => (last === undefined ? [] : [last]));
      const lastPosition = maxPosition(lasts);
      if (lasts.length === appends.length && lastPosition !== null)
        return succeeded(appends, lasts, lastPosition);
    }
    return { ok: false, reason: 'revision_conflict', conflicts };
  }
  const stored = await Promise.all(
    records.map(({ scope, key }) => readIdempotencyRecord(client, scope, key)),
  );
  const existing = stored.filter((record): record is StoredIdempotencyRecord => record !== null);
  return existing.length > 0 ? { ok: false, reason: 'idempotency_key_exists', existing } : null;
};

/** The answer to a committed append: each stream's last event is read back for its position. */
const committed = async (
  client: KurrentDBClient,
  appends: readonly StreamAppend[],
  firstKeyStream: string | undefined,
): Promise<MultiAppendResult> => {
  const lasts = await Promise.all(
    appends.map(async ({ stream, events, expected }): Promise<Last | null> => {
      if (events.length === 0) return null;
      const revision = firstRevision(expected) + events.length - 1;
      return { revision, position: await positionAt(client, stream, revision) };
    }),
  );
  const lastPosition =
    maxPosition(lasts) ??
    (firstKeyStream === undefined
      ? ((await headPosition(client)) ?? 0n)
      : await appendPosition(client, null, await readKeyEventPosition(client, firstKeyStream)));
  return succeeded(appends, lasts, lastPosition);
};

const assertDistinct = (appends: readonly StreamAppend[], keyStreams: readonly string[]): void => {
  if (new Set(appends.map((part) => part.stream)).size !== appends.length)
    throw new Error('appendMulti: a stream appears twice');
  if (new Set(keyStreams).size !== keyStreams.length)
    throw new Error('appendMulti: a (scope, key) appears twice');
};

/**
 * One `multiStreamAppend`: first one event per record on its own key stream with `no_stream`,
 * then the streams' events in the order given, so that the events take consecutive positions
 * among ours (key events are left out of our log) and a record's position is its append's.
 *
 * A stream without events cannot be part of the append (the server refuses a stream append of
 * no record): its revision is checked by a read just before. That check is not atomic with the
 * commit: a write to such a guard stream in between goes unnoticed.
 *
 * The server names one conflicting stream only: a refusal is explained by reading the streams
 * back (see refusal). A key stream purged before reads as missing yet keeps its last revision:
 * the append is then tried again expecting that revision.
 */
export const appendMulti = async (
  client: KurrentDBClient,
  appends: readonly StreamAppend[],
  records: readonly IdempotencyRecord[],
): Promise<MultiAppendResult> => {
  const keys = records.map((record) => ({
    record,
    stream: idempotencyStream(record.scope, record.key),
  }));
  assertDistinct(
    appends,
    keys.map(({ stream }) => stream),
  );
  const guards = appends.filter((part) => part.events.length === 0);
  const writes = appends.filter((part) => part.events.length > 0);
  const lastWrite = writes.at(-1);
  const lastEvent: LastEventAt =
    lastWrite === undefined
      ? null
      : {
          stream: lastWrite.stream,
          revision: firstRevision(lastWrite.expected) + lastWrite.events.length - 1,
        };
  const keyStates = new Map<string, AppendStreamState>(
    keys.map(({ stream }) => [stream, NO_STREAM]),
  );
  const requests = (): AppendStreamRequest[] => [
    ...keys.map(({ record, stream }) => ({
      streamName: stream,
      events: [toRecordEventData(record, lastEvent)],
      expectedState: keyStates.get(stream) ?? NO_STREAM,
    })),
    ...writes.map(({ stream, events, expected }) => ({
      streamName: stream,
      events: events.map(toMultiAppendEventData),
      expectedState: toStreamState(expected),
    })),
  ];

  for (let attempt = 0; attempt <= keys.length; attempt += 1) {
    if ((await conflictsOf(client, guards)).length > 0) {
      const refused = await refusal(client, appends, records);
      if (refused !== null) return refused;
    }
    if (writes.length === 0 && keys.length === 0) return committed(client, appends, undefined);
    const failure = await client.multiStreamAppend(requests()).then(
      () => null,
      (error: unknown) => error,
    );
    if (failure === null) return committed(client, appends, keys[0]?.stream);
    if (!(failure instanceof WrongExpectedVersionError)) throw explainUnsupported(failure);
    const refused = await refusal(client, appends, records);
    if (refused !== null) return refused;
    const { streamName, actualState } = failure;
    // The stream has caught up with its expected revision since: it was behind at the commit.
    if (writes.some(({ stream }) => stream === streamName)) {
      const conflicts = [{ stream: streamName, revisionActual: toRevisionActual(actualState) }];
      return { ok: false, reason: 'revision_conflict', conflicts };
    }
    if (!keyStates.has(streamName)) throw failure;
    keyStates.set(streamName, actualState);
  }
  throw new Error('appendMulti: purged idempotency keys kept conflicting');
};
