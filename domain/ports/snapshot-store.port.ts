import type { JsonValue } from './event-store.port';

/**
 * The snapshot store port: a stream's folded state saved at one revision, so that an actor loads
 * from there instead of folding the stream from revision 0. A cache, never a source of truth:
 * every load checks the snapshot against the log (the event at its revision must still carry its
 * hash and position) and folds from scratch when it does not match, so losing or corrupting a
 * snapshot costs a longer load, never a different decision.
 */
export type SavedSnapshot = {
  stream: string;
  /** Revision of the last event folded into `state`. */
  revision: number;
  /** Global position of that event. */
  position: bigint;
  /** metadata.hash of that event: the snapshot's link into the stream's hash chain. */
  lastHash: string;
  /** The aggregate's snapshot format; a snapshot of another format is not used. */
  schemaVersion: number;
  state: JsonValue;
};

export interface SnapshotStore {
  /** The stream's snapshot, or null when none was saved. */
  load(stream: string): Promise<SavedSnapshot | null>;
  /** Replaces the stream's snapshot; the promise settles once it is written. */
  save(snapshot: SavedSnapshot): Promise<void>;
  /** Streams that have a snapshot, in ascending order after `afterStream`, at most countMax. */
  listStreams(afterStream: string | null, countMax: number): Promise<string[]>;
}
