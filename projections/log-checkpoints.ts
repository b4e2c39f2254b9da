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
import { GENESIS_HASH } from '../domain/event-chain';
import type { EventStore } from '../domain/ports/event-store.port';
import { forEachEvent } from './audit-toolkit';

/** The key checkpoints are signed with. */
export type CheckpointSigner = { keyId: string; privateKey: KeyObject };

const WRITE_ATTEMPT_COUNT_MAX = 3;

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
  const head = await store.headPosition();
  if (previousHead !== null && (head === null || head < previousHead))
    throw new LogBehindCheckpointError(
      `the log ends at position ${head ?? 'none'}, before checkpoint ${latest?.body.sequence}'s head ${previousHead}: run ledger audit verify`,
    );
  if (latest !== null && head === previousHead && !force) return { written: null };
  const changed = new Map<string, StreamHead>();
  const newEventCount = await forEachEvent(
    store,
    (event) => {
      changed.set(event.stream, {
        stream: event.stream,
        revision: event.revision,
        hash: event.metadata.hash,
      });
    },
    { afterPosition: previousHead, untilPosition: head },
  );
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

/**
 * Signs a checkpoint of the log as it is now, anchoring the heads of the streams that moved
 * since the latest checkpoint. Null when the head has not moved (unless `force`). Another
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
    if (outcome !== 'raced') return outcome.written;
    if (attemptIndex >= WRITE_ATTEMPT_COUNT_MAX)
      throw new Error('checkpoint: other processes kept writing checkpoints meanwhile');
  }
};
