import type { JsonObject } from '../ports/event-store.port';
import type { SignedCheckpoint, StreamHead } from './log-checkpoint';

/**
 * Every signed checkpoint is also an event of the log itself, on one stream of its own, so that a
 * copy of the log carries its checkpoints. The event is an ordinary hash-chained event: the next
 * checkpoint anchors that stream's head like any other. It moves no money and no aggregate, so
 * projections of aggregates never see its category; the relay does not publish it (its data
 * holds every head that moved since the previous checkpoint, which can be large).
 */
export const CHECKPOINT_STREAM = 'auditcheckpoints-log';
export const CHECKPOINT_SIGNED = 'AuditCheckpointSigned';

export const isCheckpointStream = (stream: string): boolean => stream === CHECKPOINT_STREAM;

/** The event's data: the checkpoint exactly as the external store keeps it. */
export const checkpointEventData = (checkpoint: SignedCheckpoint): JsonObject => ({
  body: { ...checkpoint.body },
  hash: checkpoint.hash,
  signature: checkpoint.signature,
  changedHeads: checkpoint.changedHeads.map((head) => ({ ...head })),
});

const isHead = (value: unknown): value is StreamHead => {
  const head = value as Partial<StreamHead> | null;
  return (
    typeof head === 'object' &&
    head !== null &&
    typeof head.stream === 'string' &&
    Number.isSafeInteger(head.revision) &&
    typeof head.hash === 'string'
  );
};

/** A checkpoint read back from an event or a bundle line; null when its shape is wrong. */
export const parseSignedCheckpoint = (value: unknown): SignedCheckpoint | null => {
  if (typeof value !== 'object' || value === null) return null;
  const { body, hash, signature, changedHeads } = value as Partial<SignedCheckpoint>;
  const wellFormed =
    typeof body === 'object' &&
    body !== null &&
    Number.isSafeInteger(body.sequence) &&
    Number.isSafeInteger(body.eventCount) &&
    (body.headPosition === null ||
      (typeof body.headPosition === 'string' && /^[0-9]{1,20}$/.test(body.headPosition))) &&
    typeof body.keyId === 'string' &&
    typeof hash === 'string' &&
    typeof signature === 'string' &&
    Array.isArray(changedHeads) &&
    changedHeads.every(isHead);
  return wellFormed ? { body, hash, signature, changedHeads } : null;
};

/** Where the log's own copy of the checkpoints and the external store disagree. */
export type CheckpointCopyFinding =
  | { kind: 'checkpoint_copy_differs'; sequence: number }
  | { kind: 'checkpoint_copy_unknown'; sequence: number }
  | { kind: 'checkpoint_copy_malformed'; revision: number };

/**
 * Compares the checkpoints found in the log with the ones the external store holds: a copy in the
 * log that differs from the store's, or that the store does not have (the store lost or replaced
 * checkpoints). The store holding more than the log is not a finding here: the signed chain of
 * checkpoints anchors the checkpoint stream's head, so a log cut after its own checkpoints is a
 * missing tail of that stream.
 */
export const compareCheckpointCopies = (
  stored: readonly SignedCheckpoint[],
  inLog: readonly SignedCheckpoint[],
): CheckpointCopyFinding[] => {
  const bySequence = new Map(stored.map((checkpoint) => [checkpoint.body.sequence, checkpoint]));
  const findings: CheckpointCopyFinding[] = [];
  for (const copy of inLog) {
    const original = bySequence.get(copy.body.sequence);
    if (original === undefined)
      findings.push({ kind: 'checkpoint_copy_unknown', sequence: copy.body.sequence });
    else if (original.hash !== copy.hash || original.signature !== copy.signature)
      findings.push({ kind: 'checkpoint_copy_differs', sequence: copy.body.sequence });
  }
  return findings;
};
