import {
  parseStored,
  readsSnapshotVersion,
  type DomainEvent,
  type SnapshotCodec,
  type StreamFold,
} from '../aggregate';
import { canonicalJson } from '../event-chain';
import type { EventStore } from '../ports/event-store.port';
import type { SavedSnapshot, SnapshotStore } from '../ports/snapshot-store.port';

/**
 * Snapshots against the log. A snapshot whose event (revision, hash, position) is still in the log
 * and whose schema version is current is one an actor would load from: its state must then be
 * exactly the fold of the stream up to that revision, or it is a `mismatch` (a codec bug or a
 * tampered row: the actor would decide on a state the log does not hold). Any other snapshot is
 * `unusable`: actors ignore it and fold the stream, so it is reported but harmless.
 */
export type SnapshotFinding = { stream: string; revision: number; reason: string };
export type SnapshotReport = {
  checkedCount: number;
  mismatches: SnapshotFinding[];
  unusable: SnapshotFinding[];
};

type Verdict = { kind: 'matches' } | { kind: 'mismatch' | 'unusable'; reason: string };

const LIST_PAGE_COUNT_MAX = 500;

/** Checks every snapshot of the aggregate's category; adds to `report`. */
export const auditSnapshotsOf = async <E extends DomainEvent, S>(
  aggregate: StreamFold<E, S>,
  sources: { store: EventStore; snapshots: SnapshotStore; pageEventCountMax: number },
  report: SnapshotReport,
): Promise<void> => {
  const codec = aggregate.snapshotCodec;
  if (codec === undefined) return;
  const prefix = `${aggregate.category}-`;
  let after: string = prefix;
  for (;;) {
    const streams = await sources.snapshots.listStreams(after, LIST_PAGE_COUNT_MAX);
    const own = streams.filter((stream) => stream.startsWith(prefix));
    for (const stream of own) {
      const saved = await sources.snapshots.load(stream);
      if (saved === null) continue; // Replaced or removed since the listing.
      report.checkedCount += 1;
      const verdict = await judge(aggregate, codec, sources, saved);
      if (verdict.kind !== 'matches') {
        report[verdict.kind === 'mismatch' ? 'mismatches' : 'unusable'].push({
          stream,
          revision: saved.revision,
          reason: verdict.reason,
        });
      }
    }
    const last = streams[streams.length - 1];
    if (own.length < streams.length || streams.length < LIST_PAGE_COUNT_MAX || last === undefined)
      return;
    after = last;
  }
};

const judge = async <E extends DomainEvent, S>(
  aggregate: StreamFold<E, S>,
  codec: SnapshotCodec<S>,
  sources: { store: EventStore; pageEventCountMax: number },
  saved: SavedSnapshot,
): Promise<Verdict> => {
  if (!readsSnapshotVersion(codec, saved.schemaVersion)) {
    return { kind: 'unusable', reason: `schema version ${saved.schemaVersion}` };
  }
  let state = aggregate.initialState;
  let nextRevision = 0;
  while (nextRevision <= saved.revision) {
    const page = await sources.store.readStream(saved.stream, {
      fromRevision: nextRevision,
      direction: 'forwards',
      eventCountMax: Math.min(sources.pageEventCountMax, saved.revision - nextRevision + 1),
    });
    if (page.length === 0) {
      return { kind: 'unusable', reason: `the log ends before revision ${saved.revision}` };
    }
    for (const event of page) {
      state = aggregate.evolve(state, parseStored(aggregate, event));
      nextRevision = event.revision + 1;
      if (event.revision === saved.revision) {
        if (event.metadata.hash !== saved.lastHash || event.position !== saved.position) {
          return { kind: 'unusable', reason: `another event at revision ${saved.revision}` };
        }
      }
    }
  }
  const folded = canonicalJson(codec.encode(state));
  // An older version is compared as the current one would have saved the same state.
  let savedState = saved.state;
  if (saved.schemaVersion !== codec.schemaVersion) {
    try {
      savedState = codec.encode(codec.decode(saved.state, saved.schemaVersion));
    } catch (error: unknown) {
      return { kind: 'unusable', reason: `undecodable state: ${String(error)}` };
    }
  }
  return folded === canonicalJson(savedState)
    ? { kind: 'matches' }
    : { kind: 'mismatch', reason: 'the saved state differs from the fold of the log' };
};
