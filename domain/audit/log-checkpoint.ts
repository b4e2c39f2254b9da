import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, GENESIS_HASH } from '../event-chain';

/**
 * Signed checkpoints of the log: what the log held at a point (its head position, how many
 * events up to it, and every stream's last revision and hash, folded into one Merkle root),
 * chained to the previous checkpoint and signed with Ed25519. The hash chains of the streams
 * catch an event changed or removed in the middle; a checkpoint also catches what the chains
 * cannot: a stream's tail deleted, the log truncated, or a history rewritten with recomputed
 * hashes.
 */
export const CHECKPOINT_FORMAT = 'ledger-checkpoint/1' as const;

/** One stream's head as a checkpoint anchors it. */
export type StreamHead = { stream: string; revision: number; hash: string };

export type CheckpointBody = {
  format: typeof CHECKPOINT_FORMAT;
  /** 1, 2, 3, ... in the order they were written. */
  sequence: number;
  createdAt: string;
  /** The global position of the last event covered (decimal), null for an empty log. */
  headPosition: string | null;
  /** Events of the log with a position up to headPosition. */
  eventCount: number;
  streamCount: number;
  /** Merkle root over every stream's head (see streamsRoot). */
  streamsRoot: string;
  /** The hash of the previous checkpoint, GENESIS_HASH for the first. */
  previousHash: string;
  /** Which key signed it (see keyIdOf). */
  keyId: string;
};

/**
 * A checkpoint as stored and exported: its body, the body's hash and signature, and the heads of
 * the streams that moved since the previous checkpoint (the full set is the union of all before).
 */
export type SignedCheckpoint = {
  body: CheckpointBody;
  hash: string;
  /** Ed25519 signature of the body's canonical JSON, base64. */
  signature: string;
  changedHeads: readonly StreamHead[];
};

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const bodyText = (body: CheckpointBody): string => canonicalJson(body);

export const checkpointHashOf = (body: CheckpointBody): string => sha256(bodyText(body));

/** The first 16 hex digits of sha256 of the public key's SubjectPublicKeyInfo (DER). */
export const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

export const signCheckpoint = (body: CheckpointBody, privateKey: KeyObject): string =>
  sign(null, Buffer.from(bodyText(body)), privateKey).toString('base64');

export const signatureValid = (
  body: CheckpointBody,
  signature: string,
  publicKey: KeyObject,
): boolean =>
  verify(null, Buffer.from(bodyText(body)), publicKey, Buffer.from(signature, 'base64'));

/** The public key of a PEM text; throws unless it is an Ed25519 key. */
export const ed25519PublicKey = (pem: string): KeyObject => {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`not an Ed25519 public key (${key.asymmetricKeyType ?? 'unknown type'})`);
  return key;
};

/** A stream head's leaf in streamsRoot's Merkle tree. */
export const leafHashOf = (head: StreamHead): string =>
  sha256(canonicalJson({ hash: head.hash, revision: head.revision, stream: head.stream }));

/** An inner node of streamsRoot's Merkle tree. */
export const nodeHashOf = (left: string, right: string): string => sha256(`${left}${right}`);

/**
 * The Merkle root over every stream's head, leaves in the order of the stream names; an odd node
 * rises to the next level as it is. GENESIS_HASH for no stream.
 */
export const streamsRootOf = (heads: ReadonlyMap<string, StreamHead>): string => {
  const names = [...heads.keys()].sort();
  let level = names.map((name) => leafHashOf(heads.get(name) as StreamHead));
  if (level.length === 0) return GENESIS_HASH;
  while (level.length > 1) {
    const next: string[] = [];
    for (let index = 0; index < level.length; index += 2) {
      const left = level[index] as string;
      const right = level[index + 1];
      next.push(right === undefined ? left : nodeHashOf(left, right));
    }
    level = next;
  }
  return level[0] as string;
};

/** Where checkpoints are kept (adapters/audit/): append-only, outside the log's own tables. */
export interface SignedCheckpointLog {
  /** The latest checkpoint (its heads left out), or null. */
  latest(): SignedCheckpoint | null;
  /** Up to `limit` heads as of the latest checkpoint, by stream name after `afterStream`. */
  headsAfter(afterStream: string | null, limit: number): StreamHead[];
  /** A page of the heads as of the latest checkpoint whose stream starts with prefix, by name. */
  streamHeads(query: { prefix: string; offset: number; limit: number }): {
    heads: StreamHead[];
    totalCount: number;
  };
  /** Every checkpoint in order, each with the heads it anchored. */
  all(): SignedCheckpoint[];
  /**
   * Appends the next checkpoint in one transaction written in slices, awaiting `pace` between
   * them (a crash or throw before the commit leaves nothing of it); throws if its sequence is no
   * longer the next one.
   */
  append(checkpoint: SignedCheckpoint, pace: () => Promise<void>): Promise<void>;
}
