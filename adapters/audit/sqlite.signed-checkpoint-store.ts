import type {
  CheckpointBody,
  SignedCheckpoint,
  SignedCheckpointLog,
  StreamHead,
} from '../../domain/audit/log-checkpoint';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';

/**
 * Signed checkpoints in their own SQLite file, apart from the log they vouch for: append-only
 * (triggers refuse an UPDATE or DELETE), one row per checkpoint and one per stream head that
 * moved since the previous one. `stream_heads` is the current set of every head, a cache that
 * makes the next checkpoint's Merkle root cheap; verification never trusts it.
 */
const createTables = (db: SqliteDatabase): void => {
  db.exec(`
    CREATE TABLE IF NOT EXISTS signed_checkpoints (
      sequence INTEGER PRIMARY KEY,
      body TEXT NOT NULL,
      hash TEXT NOT NULL,
      signature TEXT NOT NULL
    ) STRICT;
    CREATE TABLE IF NOT EXISTS checkpoint_heads (
      sequence INTEGER NOT NULL REFERENCES signed_checkpoints (sequence),
      stream TEXT NOT NULL,
      revision INTEGER NOT NULL,
      hash TEXT NOT NULL,
      PRIMARY KEY (sequence, stream)
    ) STRICT;
    CREATE TABLE IF NOT EXISTS stream_heads (
      stream TEXT PRIMARY KEY,
      revision INTEGER NOT NULL,
      hash TEXT NOT NULL
    ) STRICT;
    CREATE TRIGGER IF NOT EXISTS signed_checkpoints_append_only_update
      BEFORE UPDATE ON signed_checkpoints BEGIN SELECT RAISE(ABORT, 'append-only'); END;
    CREATE TRIGGER IF NOT EXISTS signed_checkpoints_append_only_delete
      BEFORE DELETE ON signed_checkpoints BEGIN SELECT RAISE(ABORT, 'append-only'); END;
    CREATE TRIGGER IF NOT EXISTS checkpoint_heads_append_only_update
      BEFORE UPDATE ON checkpoint_heads BEGIN SELECT RAISE(ABORT, 'append-only'); END;
    CREATE TRIGGER IF NOT EXISTS checkpoint_heads_append_only_delete
      BEFORE DELETE ON checkpoint_heads BEGIN SELECT RAISE(ABORT, 'append-only'); END;
  `);
};

type CheckpointRow = { sequence: number; body: string; hash: string; signature: string };
type HeadRow = { sequence: number; stream: string; revision: number; hash: string };

/** Thrown when another process wrote the checkpoint this one meant to write: compute it again. */
class CheckpointRaceError extends Error {
  override readonly name = 'CheckpointRaceError';
}

export const openSignedCheckpointStore = (db: SqliteDatabase): SignedCheckpointLog => {
  ensureSchema(db, 'signed_checkpoints', 1, createTables);
  const latestRow = db.prepare<[], CheckpointRow>(
    'SELECT sequence, body, hash, signature FROM signed_checkpoints ORDER BY sequence DESC LIMIT 1',
  );
  const allRows = db.prepare<[], CheckpointRow>(
    'SELECT sequence, body, hash, signature FROM signed_checkpoints ORDER BY sequence',
  );
  const allHeads = db.prepare<[], HeadRow>(
    'SELECT sequence, stream, revision, hash FROM checkpoint_heads ORDER BY sequence, stream',
  );
  const headsAfter = db.prepare<[string, number], StreamHead>(
    'SELECT stream, revision, hash FROM stream_heads WHERE stream > ? ORDER BY stream LIMIT ?',
  );
  const headsFirst = db.prepare<[number], StreamHead>(
    'SELECT stream, revision, hash FROM stream_heads ORDER BY stream LIMIT ?',
  );
  // A category's streams by range, so that stream_heads' primary key serves the scan.
  const headsPage = db.prepare<[string, string, number, number], StreamHead>(
    'SELECT stream, revision, hash FROM stream_heads WHERE stream >= ? AND stream < ? ' +
      'ORDER BY stream LIMIT ? OFFSET ?',
  );
  const headsCount = db
    .prepare<[string, string], number>(
      'SELECT COUNT(*) FROM stream_heads WHERE stream >= ? AND stream < ?',
    )
    .pluck();
  const insertCheckpoint = db.prepare(
    'INSERT INTO signed_checkpoints (sequence, body, hash, signature) VALUES (?, ?, ?, ?)',
  );
  const insertHead = db.prepare(
    'INSERT INTO checkpoint_heads (sequence, stream, revision, hash) VALUES (?, ?, ?, ?)',
  );
  const upsertCurrent = db.prepare(
    'INSERT INTO stream_heads (stream, revision, hash) VALUES (?, ?, ?) ' +
      'ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, hash = excluded.hash',
  );
  const toCheckpoint = (row: CheckpointRow, heads: readonly StreamHead[]): SignedCheckpoint => ({
    body: JSON.parse(row.body) as CheckpointBody,
    hash: row.hash,
    signature: row.signature,
    changedHeads: heads,
  });
  /** Rows (a head's two) written between two awaits of `pace` within the append's transaction. */
  const HEADS_PER_PACE = 64;
  /**
   * One transaction over several turns of the event loop: BEGIN IMMEDIATE takes the file's write
   * lock, readers on other connections see nothing of it before COMMIT, and a crash or throw
   * before COMMIT leaves nothing. The connection must have no other user meanwhile (the service
   * gives the checkpointer its own).
   */
  const append = async (checkpoint: SignedCheckpoint, pace: () => Promise<void>): Promise<void> => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const latest = latestRow.get();
      if ((latest?.sequence ?? 0) + 1 !== checkpoint.body.sequence)
        throw new CheckpointRaceError(
          `checkpoint ${checkpoint.body.sequence} was written meanwhile by another process`,
        );
      const { body } = checkpoint;
      insertCheckpoint.run(
        body.sequence,
        JSON.stringify(body),
        checkpoint.hash,
        checkpoint.signature,
      );
      let written = 0;
      for (const head of checkpoint.changedHeads) {
        insertHead.run(body.sequence, head.stream, head.revision, head.hash);
        upsertCurrent.run(head.stream, head.revision, head.hash);
        written += 1;
        if (written % HEADS_PER_PACE === 0) await pace();
      }
      db.exec('COMMIT');
    } catch (error: unknown) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  };

  return {
    latest: (): SignedCheckpoint | null => {
      const row = latestRow.get();
      return row === undefined ? null : toCheckpoint(row, []);
    },
    headsAfter: (afterStream, limit) =>
      afterStream === null ? headsFirst.all(limit) : headsAfter.all(afterStream, limit),
    streamHeads: ({ prefix, offset, limit }) => {
      const upper = `${prefix}\u{10FFFF}`;
      return {
        heads: headsPage.all(prefix, upper, limit, offset),
        totalCount: headsCount.get(prefix, upper) ?? 0,
      };
    },
    all: (): SignedCheckpoint[] => {
      const headsBySequence = new Map<number, StreamHead[]>();
      for (const row of allHeads.all()) {
        const heads = headsBySequence.get(row.sequence) ?? [];
        heads.push({ stream: row.stream, revision: row.revision, hash: row.hash });
        headsBySequence.set(row.sequence, heads);
      }
      return allRows.all().map((row) => toCheckpoint(row, headsBySequence.get(row.sequence) ?? []));
    },
    append,
  };
};
