import type { KeyObject } from 'node:crypto';
import {
  EMPTY_CHAIN,
  GENESIS_HASH,
  verifyChain,
  type ChainBreak,
  type ChainTail,
} from '../event-chain';
import type { RecordedEvent } from '../ports/event-store.port';
import {
  compareCheckpointCopies,
  isCheckpointStream,
  parseSignedCheckpoint,
  type CheckpointCopyFinding,
} from './checkpoint-events';
import {
  CHECKPOINT_FORMAT,
  checkpointHashOf,
  signatureValid,
  streamsRootOf,
  type SignedCheckpoint,
  type StreamHead,
} from './log-checkpoint';

/**
 * Verifies a log, event by event in position order, against its hash chains and its signed
 * checkpoints: each checkpoint must be signed by a trusted key and chained to the one before,
 * and every stream head a checkpoint anchored must still be in the log with the same hash.
 */

/** A checkpoint that cannot be trusted: the ones after it are not used either. */
type CheckpointProblem = { sequence: number; problem: string };

/** What the log no longer holds or holds differently from what a checkpoint signed. */
export type CheckpointFinding =
  | {
      kind: 'stream_tail_missing';
      stream: string;
      /** Revisions fromRevision..toRevision are gone (the stream's last one in the log is fromRevision - 1). */
      fromRevision: number;
      toRevision: number;
      sequence: number;
    }
  | {
      kind: 'stream_rewritten';
      stream: string;
      /** The first anchored revision whose hash differs: the change is at or before it... */
      revision: number;
      /** ...and after this one, the last anchored revision still equal (null: none before). */
      unchangedUpToRevision: number | null;
      hashSigned: string;
      hashFound: string;
      sequence: number;
    }
  | {
      /** Fewer events up to the signed head, or the log ends before it; more: events inserted. */
      kind: 'log_truncated' | 'log_events_inserted';
      /** The checkpoint's head and count, and what the log holds up to that head. */
      headPositionSigned: string | null;
      eventCountSigned: number;
      headPositionFound: string | null;
      eventCountFound: number;
      sequence: number;
    }
  | CheckpointCopyFinding;

/**
 * Which checkpoints the log was checked against: the external store's (the log's own copies are
 * compared with them), the log's own copies (no external store: a copy of the log alone), or none.
 */
export type CheckpointSource = 'store' | 'log' | 'none';

export type LogVerification = {
  ok: boolean;
  eventCount: number;
  streamCount: number;
  headPosition: string | null;
  /** The first broken link of a stream's hash chain. */
  broken: ChainBreak | null;
  checkpointCount: number;
  checkpointSource: CheckpointSource;
  /** Checkpoints found as events in the log itself (stream auditcheckpoints-log). */
  inLogCheckpointCount: number;
  /** The latest checkpoint that was signed by a trusted key and chained correctly. */
  latestCheckpoint: { sequence: number; createdAt: string; headPosition: string | null } | null;
  checkpointProblems: CheckpointProblem[];
  findings: CheckpointFinding[];
};

type Anchor = { hash: string; sequence: number };

const keyOf = (stream: string, revision: number): string => `${stream}\u0000${revision}`;

/** Checks the checkpoints' chain and signatures; returns the ones that can be trusted. */
const trustedPrefix = (
  checkpoints: readonly SignedCheckpoint[],
  trustedKeys: ReadonlyMap<string, KeyObject>,
  problems: CheckpointProblem[],
): SignedCheckpoint[] => {
  const heads = new Map<string, StreamHead>();
  const trusted: SignedCheckpoint[] = [];
  let previousHash = GENESIS_HASH;
  let previousHead = -1n;
  for (const [index, checkpoint] of checkpoints.entries()) {
    const { body } = checkpoint;
    const problem = (text: string) => problems.push({ sequence: body.sequence, problem: text });
    const key = trustedKeys.get(body.keyId);
    for (const head of checkpoint.changedHeads) heads.set(head.stream, head);
    const head = body.headPosition === null ? -1n : BigInt(body.headPosition);
    if (body.format !== CHECKPOINT_FORMAT) problem(`unknown format ${String(body.format)}`);
    else if (body.sequence !== index + 1)
      problem(`sequence ${body.sequence} where ${index + 1} was due`);
    else if (key === undefined) problem(`signed by key ${body.keyId}, which is not trusted`);
    else if (!signatureValid(body, checkpoint.signature, key)) problem('signature invalid');
    else if (checkpointHashOf(body) !== checkpoint.hash) problem('hash differs from its body');
    else if (body.previousHash !== previousHash)
      problem('not chained to the previous checkpoint (previousHash differs)');
    else if (head < previousHead) problem('head position before the previous checkpoint');
    else if (heads.size !== body.streamCount || streamsRootOf(heads) !== body.streamsRoot)
      problem('stream heads differ from the signed Merkle root');
    if (problems.length > 0) return trusted;
    trusted.push(checkpoint);
    previousHash = checkpoint.hash;
    previousHead = head;
  }
  return trusted;
};

export const createLogVerifier = (
  checkpoints: readonly SignedCheckpoint[],
  trustedKeys: ReadonlyMap<string, KeyObject>,
  origin: 'store' | 'log' = 'store',
) => {
  const checkpointProblems: CheckpointProblem[] = [];
  const trusted = trustedPrefix(checkpoints, trustedKeys, checkpointProblems);
  const latest = trusted[trusted.length - 1] ?? null;
  const latestHead =
    latest === null || latest.body.headPosition === null ? null : BigInt(latest.body.headPosition);
  // Every head any trusted checkpoint anchored, and, per stream, the anchored revisions.
  const anchors = new Map<string, Anchor>();
  const anchoredRevisions = new Map<string, number[]>();
  for (const checkpoint of trusted)
    for (const head of checkpoint.changedHeads) {
      anchors.set(keyOf(head.stream, head.revision), {
        hash: head.hash,
        sequence: checkpoint.body.sequence,
      });
      const revisions = anchoredRevisions.get(head.stream) ?? [];
      revisions.push(head.revision);
      anchoredRevisions.set(head.stream, revisions);
    }
  const tails = new Map<string, ChainTail>();
  const lastRevisions = new Map<string, number>();
  const found = new Map<string, string>();
  let broken: ChainBreak | null = null;
  let eventCount = 0;
  let eventCountToLatest = 0;
  let headPosition: bigint | null = null;
  const inLog: SignedCheckpoint[] = [];
  const malformedCopies: CheckpointCopyFinding[] = [];

  const visit = (event: RecordedEvent): void => {
    eventCount += 1;
    if (isCheckpointStream(event.stream)) {
      const copy = parseSignedCheckpoint(event.data);
      if (copy === null)
        malformedCopies.push({ kind: 'checkpoint_copy_malformed', revision: event.revision });
      else inLog.push(copy);
    }
    headPosition = event.position;
    lastRevisions.set(event.stream, event.revision);
    if (latestHead !== null && event.position <= latestHead) eventCountToLatest += 1;
    const key = keyOf(event.stream, event.revision);
    if (anchors.has(key)) found.set(key, event.metadata.hash);
    if (broken !== null) return;
    const checked = verifyChain(tails.get(event.stream) ?? EMPTY_CHAIN, [event]);
    if (checked.ok) tails.set(event.stream, checked.tail);
    else broken = checked.broken;
  };

  const findingsOf = (): CheckpointFinding[] => {
    const findings: CheckpointFinding[] = [];
    for (const [stream, revisions] of anchoredRevisions) {
      const sorted = [...new Set(revisions)].sort((a, b) => a - b);
      let unchangedUpTo: number | null = null;
      for (const revision of sorted) {
        const anchor = anchors.get(keyOf(stream, revision)) as Anchor;
        const hash = found.get(keyOf(stream, revision));
        if (hash === undefined) {
          const toRevision = sorted[sorted.length - 1] as number;
          const missingFrom = (lastRevisions.get(stream) ?? -1) + 1;
          findings.push({
            kind: 'stream_tail_missing',
            stream,
            fromRevision: Math.min(missingFrom, revision),
            toRevision,
            sequence: (anchors.get(keyOf(stream, toRevision)) as Anchor).sequence,
          });
          break;
        }
        if (hash !== anchor.hash) {
          findings.push({
            kind: 'stream_rewritten',
            stream,
            revision,
            unchangedUpToRevision: unchangedUpTo,
            hashSigned: anchor.hash,
            hashFound: hash,
            sequence: anchor.sequence,
          });
          break;
        }
        unchangedUpTo = revision;
      }
    }
    findings.push(...malformedCopies);
    if (origin === 'store') findings.push(...compareCheckpointCopies(checkpoints, inLog));
    if (latest !== null) {
      const { body } = latest;
      const behind = latestHead !== null && (headPosition === null || headPosition < latestHead);
      if (behind || eventCountToLatest !== body.eventCount)
        findings.push({
          kind:
            behind || eventCountToLatest < body.eventCount
              ? 'log_truncated'
              : 'log_events_inserted',
          headPositionSigned: body.headPosition,
          eventCountSigned: body.eventCount,
          headPositionFound: headPosition === null ? null : String(headPosition),
          eventCountFound: eventCountToLatest,
          sequence: body.sequence,
        });
    }
    return findings;
  };

  return {
    visit,
    report: (): LogVerification => {
      const findings = findingsOf();
      return {
        ok: broken === null && checkpointProblems.length === 0 && findings.length === 0,
        eventCount,
        streamCount: lastRevisions.size,
        headPosition: headPosition === null ? null : String(headPosition),
        broken,
        checkpointCount: checkpoints.length,
        checkpointSource: checkpoints.length === 0 ? 'none' : origin,
        inLogCheckpointCount: inLog.length,
        latestCheckpoint:
          latest === null
            ? null
            : {
                sequence: latest.body.sequence,
                createdAt: latest.body.createdAt,
                headPosition: latest.body.headPosition,
              },
        checkpointProblems,
        findings,
      };
    },
  };
};
