/** Durable positions in the global log for followers of it (supervisors, relays, projections). */
export interface CheckpointStore {
  /** The position saved under `name`, or null when nothing was saved. */
  load(name: string): Promise<bigint | null>;
  /**
   * Saves; a later load returns it, also after a crash of the process. A power cut may take the
   * last saves back: a follower then reads again from an older position, so whatever it does
   * per event must bear doing twice (a relay's duplicate window, idempotent commands).
   */
  save(name: string, position: bigint): Promise<void>;
}
