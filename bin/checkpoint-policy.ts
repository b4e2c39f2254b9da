/**
 * When the checkpoint thread copies a file's WAL back into the database: a checkpoint costs a
 * write of each distinct page the WAL holds and two fsyncs, so checkpointing less often copies a
 * hot page (an account, a checkpoint row, an index's last leaf) once for many commits. A file is
 * checkpointed once `intervalMs` has passed since its last checkpoint and it has frames left to
 * copy, or at once when it has `walPagesMax` of them (the WAL's bound under a burst). A file whose
 * WAL did not grow is left alone.
 */
export type CheckpointPolicyLimits = { intervalMs: number; walPagesMax: number };

/** What `PRAGMA wal_checkpoint` answers: frames in the WAL, and how many of them are copied. */
export type WalFrames = { log: number; checkpointed: number };

type CheckpointPolicy = {
  /** True when the file (by name) should be checkpointed now, given its WAL's frame counts. */
  due(file: string, frames: WalFrames): boolean;
  /** Records a checkpoint of the file made now. */
  checkpointed(file: string): void;
};

export const createCheckpointPolicy = (
  limits: CheckpointPolicyLimits,
  nowMs: () => number,
): CheckpointPolicy => {
  const lastMsByFile = new Map<string, number>();
  return {
    due: (file, frames) => {
      // A writer that restarts the WAL resets both counts; a file not in WAL mode answers -1.
      const pendingPages = frames.log - frames.checkpointed;
      if (pendingPages <= 0) return false;
      if (pendingPages >= limits.walPagesMax) return true;
      const lastMs = lastMsByFile.get(file);
      if (lastMs === undefined) {
        lastMsByFile.set(file, nowMs());
        return false;
      }
      return nowMs() - lastMs >= limits.intervalMs;
    },
    checkpointed: (file) => {
      lastMsByFile.set(file, nowMs());
    },
  };
};
