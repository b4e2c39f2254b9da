import type { KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  CHECKPOINT_FORMAT,
  checkpointHashOf,
  type CheckpointBody,
  signCheckpoint,
  type SignedCheckpoint,
  type SignedCheckpointLog,
  type StreamHead,
} from '../domain/audit/log-checkpoint';
import {
  adoptStreamLeaves,
  emptyStreamLeaves,
  nextStreamLeaves,
  streamLeavesOf,
  type StreamLeaves,
} from '../domain/audit/streams-root';
import {
  CHECKPOINT_SIGNED,
  CHECKPOINT_STREAM,
  checkpointEventData,
  isCheckpointStream,
} from '../domain/audit/checkpoint-events';
import { type ChainTail, EMPTY_CHAIN, GENESIS_HASH, sealEvents } from '../domain/event-chain';
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

/**
 * What a process keeps between its checkpoints so that each costs only what moved: the Merkle
 * leaves as of its latest checkpoint, and the tail of the log's checkpoint stream as its last
 * copy left it (null: read it from the log). Both are checked against the stores before use: a
 * checkpoint written by another process reloads the leaves, a copy appended by another process
 * makes the next copy's append conflict, which drops the tail.
 */
type CheckpointerMemory = { leaves: StreamLeaves; logTail: ChainTail | null };

export const createCheckpointerMemory = (): CheckpointerMemory => ({
  leaves: emptyStreamLeaves(),
  logTail: null,
});

/**
 * The longest stretch of work a checkpoint does on its thread before it lets the event loop run
 * (the API thread serves requests meanwhile): reading heads, hashing and writing rows are cut in
 * slices about this long.
 */
const SLICE_MS = 2;

/** `pace` resolves at once within a slice and on the next turn of the event loop after it. */
const createPace = (): (() => Promise<void>) => {
  let sliceStartMs = performance.now();
  return async () => {
    if (performance.now() - sliceStartMs < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStartMs = performance.now();
  };
};

/** Runs a generator that yields between units of work, pacing it over turns of the event loop. */
const inSlices = async <T>(work: Generator<void, T>, pace: () => Promise<void>): Promise<T> => {
  for (;;) {
    const step = work.next();
    if (step.done === true) return step.value;
    await pace();
  }
};

/** Heads read per query while loading the leaves from the checkpoint store. */
const LOAD_HEADS_PAGE_COUNT = 512;

function* everyHead(log: SignedCheckpointLog): Generator<StreamHead> {
  for (let after: string | null = null; ;) {
    const page = log.headsAfter(after, LOAD_HEADS_PAGE_COUNT);
    yield* page;
    const last = page[page.length - 1];
    if (last === undefined || page.length < LOAD_HEADS_PAGE_COUNT) return;
    after = last.stream;
  }
}

/**
 * The leaves as of the latest checkpoint: those kept from the previous one when it is still the
 * latest (this process wrote it), else read again from the store (at the first checkpoint, or
 * after another process wrote one), until no checkpoint was written while they were read.
 */
const currentLeaves = async (
  log: SignedCheckpointLog,
  kept: StreamLeaves,
  pace: () => Promise<void>,
): Promise<StreamLeaves> => {
  for (;;) {
    const sequence = log.latest()?.body.sequence ?? 0;
    if (kept.sequence === sequence) return kept;
    const loaded = await inSlices(streamLeavesOf(sequence, everyHead(log)), pace);
    if ((log.latest()?.body.sequence ?? 0) !== sequence) continue;
    Object.assign(kept, loaded);
    return kept;
  }
};

const attempt = async (
  store: EventStore,
  log: SignedCheckpointLog,
  signer: CheckpointSigner,
  createdAt: string,
  options: { force: boolean; memory: CheckpointerMemory; pace: () => Promise<void> },
): Promise<Attempt> => {
  const { force, memory, pace } = options;
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
    copied = await copyCheckpointsIntoLog(store, log, null, memory);
  const head = copiedCount === 0 ? headBefore : await store.headPosition();
  if (latest !== null && head === previousHead && !force) return { written: null };
  const { changed, newEventCount, movedEventCount } = await headsMovedSince(
    store,
    previousHead,
    head,
    pace,
  );
  // Only the previous checkpoint's own event came since: nothing to anchor yet (else every
  // checkpoint's event would call for another checkpoint, forever).
  if (latest !== null && movedEventCount === 0 && !force) return { written: null };
  const leaves = await currentLeaves(log, memory.leaves, pace);
  if (leaves.sequence !== (latest?.body.sequence ?? 0)) return 'raced';
  const next = await inSlices(nextStreamLeaves(leaves, changed.values()), pace);
  const body: CheckpointBody = {
    format: CHECKPOINT_FORMAT,
    sequence: (latest?.body.sequence ?? 0) + 1,
    createdAt,
    headPosition: head === null ? null : String(head),
    eventCount: (latest?.body.eventCount ?? 0) + newEventCount,
    streamCount: next.names.length,
    streamsRoot: next.root,
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
    await log.append(checkpoint, pace);
    adoptStreamLeaves(leaves, next, body.sequence);
    return { written: checkpoint };
  } catch (error: unknown) {
    // Another process wrote this sequence number first: start again from its checkpoint.
    if ((log.latest()?.body.sequence ?? 0) >= body.sequence) return 'raced';
    throw error;
  }
};

/**
 * Events read per page while anchoring heads (SQLite folds each page in one query, ~0.5 µs per
 * event): small enough for a page to be a slice, with a turn of the event loop between pages.
 */
const HEADS_PAGE_EVENT_COUNT_MAX = 250;

/**
 * The streams that moved in (afterPosition, untilPosition], each at its last event there, with
 * the events counted: all of them, and those other than the checkpoints' own copies in the log.
 * Only each stream's head is read (readStreamHeads): no event's data is parsed.
 */
const headsMovedSince = async (
  store: EventStore,
  afterPosition: bigint | null,
  untilPosition: bigint | null,
  pace: () => Promise<void>,
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
    await pace();
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
  memory: CheckpointerMemory,
): Promise<number> => {
  const tail = memory.logTail ?? (await checkpointStreamTail(store));
  const { nextRevision } = tail;
  const latestSequence = justWritten?.body.sequence ?? log.latest()?.body.sequence ?? 0;
  if (nextRevision >= latestSequence) return 0;
  const missing =
    justWritten !== null && justWritten.body.sequence === nextRevision + 1
      ? [justWritten]
      : log.all().slice(nextRevision, nextRevision + COPY_APPEND_CHECKPOINT_COUNT_MAX);
  const sealed = sealEvents(
    CHECKPOINT_STREAM,
    tail,
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
    nextRevision === 0
      ? { kind: 'no_stream' as const }
      : { kind: 'exact' as const, revision: nextRevision - 1 };
  memory.logTail = null;
  const appended = await store.append(CHECKPOINT_STREAM, sealed.events, expected);
  if (!appended.ok) return 0;
  memory.logTail = sealed.tail;
  return sealed.events.length;
};

/** The tail of the log's checkpoint stream, read from its last event. */
const checkpointStreamTail = async (store: EventStore): Promise<ChainTail> => {
  const [last] = await store.readStream(CHECKPOINT_STREAM, {
    fromRevision: 'end',
    direction: 'backwards',
    eventCountMax: 1,
  });
  return last === undefined
    ? EMPTY_CHAIN
    : { nextRevision: last.revision + 1, lastHash: last.metadata.hash };
};

/**
 * Signs a checkpoint of the log as it is now, anchoring the heads of the streams that moved
 * since the latest checkpoint, then copies it into the log (copyCheckpointsIntoLog). Null when
 * no event but the checkpoints' own copies came since the latest (unless `force`). Another
 * process writing a checkpoint meanwhile makes it start again, up to a few times. The work is
 * cut in slices of about SLICE_MS with a turn of the event loop between them; `memory`, kept by
 * the caller between checkpoints (createCheckpointerMemory), spares each one a read of every
 * head and of the log's latest copy.
 */
export const writeCheckpoint = async (
  store: EventStore,
  log: SignedCheckpointLog,
  signer: CheckpointSigner,
  options: { now: () => Date; force: boolean; memory?: CheckpointerMemory },
): Promise<SignedCheckpoint | null> => {
  const memory = options.memory ?? createCheckpointerMemory();
  const pace = createPace();
  for (let attemptIndex = 1; ; attemptIndex += 1) {
    const outcome = await attempt(store, log, signer, options.now().toISOString(), {
      force: options.force,
      memory,
      pace,
    });
    if (outcome !== 'raced') {
      if (outcome.written !== null)
        await copyCheckpointsIntoLog(store, log, outcome.written, memory);
      return outcome.written;
    }
    if (attemptIndex >= WRITE_ATTEMPT_COUNT_MAX)
      throw new Error('checkpoint: other processes kept writing checkpoints meanwhile');
  }
};
