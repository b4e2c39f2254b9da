import type { KeyObject } from 'node:crypto';
import {
  CHECKPOINT_FORMAT,
  checkpointHashOf,
  type CheckpointBody,
  signCheckpoint,
  streamsRootOf,
  type SignedCheckpoint,
  type SignedCheckpointLog,
  type StreamHead,
} from '../domain/audit/log-checkpoint';
import {
  CHECKPOINT_SIGNED,
  CHECKPOINT_STREAM,
  checkpointEventData,
  isCheckpointStream,
} from '../domain/audit/checkpoint-events';
import { GENESIS_HASH, sealEvents } from '../domain/event-chain';
import { deterministicEventId } from '../domain/event-ids';
import type { EventStore } from '../domain/ports/event-store.port';

/** The key checkpoints are signed with. */
export type CheckpointSigner = { keyId: string; privateKey: KeyObject };

const WRITE_ATTEMPT_COUNT_MAX = 3;
/** Checkpoints copied into the log per append when the log's copy is behind the store. */
const COPY_APPEND_CHECKPOINT_COUNT_MAX = 100;
const CHECKPOINT_ACTOR = { clientId: 'system:audit-checkpoints', role: 'system', ip: null };

/** Thrown when the log holds less than the latest checkpoint signed: it was cut since. */
class LogBehindCheckpointError extends Error {
  override readonly name = 'LogBehindCheckpointError';
}

type Attempt = { written: SignedCheckpoint | null } | 'raced';

const attempt = async (
  store: EventStore,
  log: SignedCheckpointLog,
  signer: CheckpointSigner,
  createdAt: string,
  force: boolean,
): Promise<Attempt> => {
  const latest = log.latest();
  const previousHead =
    latest?.body.headPosition === null || latest === null ? null : BigInt(latest.body.headPosition);
  const headBefore = await store.headPosition();
  if (previousHead !== null && (headBefore === null || headBefore < previousHead))
    throw new LogBehindCheckpointError(
      `the log ends at position ${headBefore ?? 'none'}, before checkpoint ${latest?.body.sequence}'s head ${previousHead}: run ledger audit verify`,
    );
  // Only once the log is known not to be cut: a copy appended to a cut log would hide the cut.
  let copiedCount = 0;
  for (let copied = -1; copied !== 0; copiedCount += copied)
    copied = await copyCheckpointsIntoLog(store, log, null);
  const head = copiedCount === 0 ? headBefore : await store.headPosition();
  if (latest !== null && head === previousHead && !force) return { written: null };
  const { changed, newEventCount, movedEventCount } = await headsMovedSince(
    store,
    previousHead,
    head,
  );
  // Only the previous checkpoint's own event came since: nothing to anchor yet (else every
  // checkpoint's event would call for another checkpoint, forever).
  if (latest !== null && movedEventCount === 0 && !force) return { written: null };
  const heads = log.currentHeads();
  for (const [stream, streamHead] of changed) heads.set(stream, streamHead);
  const body: CheckpointBody = {
    format: CHECKPOINT_FORMAT,
    sequence: (latest?.body.sequence ?? 0) + 1,
    createdAt,
    headPosition: head === null ? null : String(head),
    eventCount: (latest?.body.eventCount ?? 0) + newEventCount,
    streamCount: heads.size,
    streamsRoot: streamsRootOf(heads),
    previousHash: latest?.hash ?? GENESIS_HASH,
    keyId: signer.keyId,
  };
  const checkpoint = {
    body,
    hash: checkpointHashOf(body),
    signature: signCheckpoint(body, signer.privateKey),
    changedHeads: [...changed.values()],
  };
  try {
    log.append(checkpoint);
    return { written: checkpoint };
  } catch (error: unknown) {
    // Another process wrote this sequence number first: start again from its checkpoint.
    if ((log.latest()?.body.sequence ?? 0) >= body.sequence) return 'raced';
    throw error;
  }
};

/** Events read per page while anchoring heads (SQLite folds each page in one query). */
const HEADS_PAGE_EVENT_COUNT_MAX = 10_000;

/**
 * The streams that moved in (afterPosition, untilPosition], each at its last event there, with
 * the events counted: all of them, and those other than the checkpoints' own copies in the log.
 * Only each stream's head is read (readStreamHeads): no event's data is parsed.
 */
const headsMovedSince = async (
  store: EventStore,
  afterPosition: bigint | null,
  untilPosition: bigint | null,
): Promise<{
  changed: Map<string, StreamHead>;
  newEventCount: number;
  movedEventCount: number;
}> => {
  const changed = new Map<string, StreamHead>();
  let newEventCount = 0;
  let movedEventCount = 0;
  for (let after = afterPosition; untilPosition !== null;) {
    const page = await store.readStreamHeads({
      afterPosition: after,
      untilPosition,
      eventCountMax: HEADS_PAGE_EVENT_COUNT_MAX,
    });
    for (const { stream, revision, hash, eventCount } of page.heads) {
      // A stream keeps its place (its first move's), as a read of every event gave it.
      changed.set(stream, { stream, revision, hash });
      if (!isCheckpointStream(stream)) movedEventCount += eventCount;
    }
    newEventCount += page.eventCount;
    if (page.lastPosition === null || page.eventCount < HEADS_PAGE_EVENT_COUNT_MAX) break;
    after = page.lastPosition;
  }
  return { changed, newEventCount, movedEventCount };
};

/**
 * Appends to the log's checkpoint stream (revision r holds checkpoint r + 1) the checkpoints the
 * store has and the log lacks: the one just written, or after a failed append, a crash or an
 * upgrade from a version that kept them only in the store, every one missing, in order. Each
 * event's id and time derive from its checkpoint, so two processes copying it write the same
 * event; losing that race (a revision conflict) leaves the other's copy, which is the same.
 */
const copyCheckpointsIntoLog = async (
  store: EventStore,
  log: SignedCheckpointLog,
  justWritten: SignedCheckpoint | null,
): Promise<number> => {
  const [last] = await store.readStream(CHECKPOINT_STREAM, {
    fromRevision: 'end',
    direction: 'backwards',
    eventCountMax: 1,
  });
  const nextRevision = last === undefined ? 0 : last.revision + 1;
  const latestSequence = justWritten?.body.sequence ?? log.latest()?.body.sequence ?? 0;
  if (nextRevision >= latestSequence) return 0;
  const missing =
    justWritten !== null && justWritten.body.sequence === nextRevision + 1
      ? [justWritten]
      : log.all().slice(nextRevision, nextRevision + COPY_APPEND_CHECKPOINT_COUNT_MAX);
  const { events } = sealEvents(
    CHECKPOINT_STREAM,
    { nextRevision, lastHash: last?.metadata.hash ?? GENESIS_HASH },
    missing.map((checkpoint) => ({
      id: deterministicEventId(`${CHECKPOINT_STREAM}:${checkpoint.hash}`, 0),
      type: CHECKPOINT_SIGNED,
      data: checkpointEventData(checkpoint),
      metadata: {
        correlationId: `${CHECKPOINT_STREAM}-${checkpoint.body.sequence}`,
        causationId: null,
        actor: CHECKPOINT_ACTOR,
        idempotencyKey: null,
        occurredAt: checkpoint.body.createdAt,
        schemaVersion: 1,
      },
    })),
  );
  const expected =
    last === undefined
      ? { kind: 'no_stream' as const }
      : { kind: 'exact' as const, revision: last.revision };
  const appended = await store.append(CHECKPOINT_STREAM, events, expected);
  return appended.ok ? events.length : 0;
};

/**
 * Signs a checkpoint of the log as it is now, anchoring the heads of the streams that moved
 * since the latest checkpoint, then copies it into the log (copyCheckpointsIntoLog). Null when
 * no event but the checkpoints' own copies came since the latest (unless `force`). Another
 * process writing a checkpoint meanwhile makes it start again, up to a few times.
 */
export const writeCheckpoint = async (
  store: EventStore,
  log: SignedCheckpointLog,
  signer: CheckpointSigner,
  options: { now: () => Date; force: boolean },
): Promise<SignedCheckpoint | null> => {
  for (let attemptIndex = 1; ; attemptIndex += 1) {
    const outcome = await attempt(store, log, signer, options.now().toISOString(), options.force);
    if (outcome !== 'raced') {
      if (outcome.written !== null) await copyCheckpointsIntoLog(store, log, outcome.written);
      return outcome.written;
    }
    if (attemptIndex >= WRITE_ATTEMPT_COUNT_MAX)
      throw new Error('checkpoint: other processes kept writing checkpoints meanwhile');
  }
};
