import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { startCheckpointThread } from '../../bin/checkpoint-thread';
import { createLogger } from '../../bin/logger';
import { eventually } from '../support/eventually';

/** The compiled worker: `npm test` builds before jest, as the e2e suites need too. */
const WORKER = join(__dirname, '../../dist/bin/checkpoint.worker.js');

type CheckpointRow = { busy: number; log: number; checkpointed: number };

describe('the WAL checkpoint thread', () => {
  it("copies a writer's WAL back into the database so the writer's next commit restarts it", async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ledger-checkpoint-'));
    const path = join(directory, 'busy.sqlite');
    const writer = openSqliteDatabase(path);
    writer.pragma('wal_autocheckpoint = 0'); // Left alone, its WAL would only grow.
    writer.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = writer.prepare('INSERT INTO rows (body) VALUES (?)');
    const fill = writer.transaction((count: number) => {
      for (let index = 0; index < count; index += 1) insert.run('x'.repeat(500));
    });
    const walState = (): CheckpointRow | undefined =>
      (writer.pragma('wal_checkpoint(NOOP)') as CheckpointRow[])[0];
    const walFrames = (): number => walState()?.log ?? -1;
    fill(2000);
    const framesBefore = walFrames();
    expect(framesBefore).toBeGreaterThan(200);

    const logger = createLogger('warn', { stream: new PassThrough() });
    const checkpointer = startCheckpointThread({
      paths: [path],
      logLevel: 'warn',
      logger,
      workerScript: WORKER,
    });
    try {
      await eventually(
        () => {
          const state = walState();
          return state !== undefined && state.checkpointed === state.log ? state : undefined;
        },
        { timeoutMs: 20_000, what: 'every WAL frame checkpointed by the thread' },
      );
      fill(1); // Every frame was checkpointed: this commit starts the WAL over.
      expect(walFrames()).toBeLessThan(10);
    } finally {
      await checkpointer.stop();
      writer.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
