/** Durable positions in the global log for followers of it (supervisors, relays, projections). */
export interface CheckpointStore {
  /** The position saved under `name`, or null when nothing was saved. */
  load(name: string): Promise<bigint | null>;
  /** Saves durably; a later load returns it, also after a restart. */
  save(name: string, position: bigint): Promise<void>;
}
