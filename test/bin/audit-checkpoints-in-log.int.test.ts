import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { CHECKPOINT_STREAM } from '../../domain/audit/checkpoint-events';
import type { LogVerification } from '../../domain/audit/log-verifier';
import { EMPTY_CHAIN, sealEvents } from '../../domain/event-chain';
import { writeHistory } from '../projections/support/ledger-fixture';

/** The built CLI (`npm run build` first): every signed checkpoint is also an event of the log. */
const LEDGER = join(__dirname, '../../dist/bin/ledger.js');
const run = promisify(execFile);

const ledger = async (dataDir: string, ...args: string[]) => {
  try {
    const { stdout } = await run(process.execPath, [LEDGER, ...args], {
      env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout };
  } catch (error: unknown) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
};

const verified = async (dataDir: string) => {
  const outcome = await ledger(dataDir, 'audit', 'verify', '--json');
  return { code: outcome.code, report: JSON.parse(outcome.stdout) as LogVerification };
};

const checkpoint = async (dataDir: string): Promise<void> => {
  const signed = await ledger(dataDir, 'audit', 'checkpoint', '--json');
  expect(JSON.parse(signed.stdout)).toMatchObject({ written: true });
};

describe('checkpoints in the log itself', () => {
  jest.setTimeout(120_000); // Each step runs the CLI in a process of its own.
  let dataDir: string;
  let eventsFile: string;
  const sql = <T>(work: (database: Database.Database) => T): T => {
    const database = new Database(eventsFile);
    try {
      return work(database);
    } finally {
      database.close();
    }
  };
  const copies = () =>
    sql(
      (database) =>
        database
          .prepare('SELECT revision, position, data FROM events WHERE stream = ? ORDER BY revision')
          .all(CHECKPOINT_STREAM) as { revision: number; position: number; data: string }[],
    );
  /** Appends one event to a fresh stream, so that the log moves. */
  const appendNote = async (name: string): Promise<void> => {
    const store = createSqliteEventStore({ path: eventsFile });
    const stream = `note-${name}`;
    const actor = { clientId: 'test', role: 'admin', ip: null };
    const { events } = sealEvents(stream, EMPTY_CHAIN, [
      {
        id: `00000000-0000-7000-8000-${name.padStart(12, '0')}`,
        type: 'NoteWritten',
        data: { name },
        metadata: {
          correlationId: name,
          causationId: null,
          actor,
          idempotencyKey: null,
          occurredAt: new Date().toISOString(),
          schemaVersion: 1,
        },
      },
    ]);
    await store.append(stream, events, { kind: 'no_stream' });
    await store.close();
  };

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-checkpoints-in-log-'));
    eventsFile = join(dataDir, 'events.sqlite');
    const store = createSqliteEventStore({ path: eventsFile });
    await writeHistory(store);
    await store.close();
    await checkpoint(dataDir);
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('appends each checkpoint to the log, which the next checkpoint anchors', async () => {
    const [first] = copies();
    expect(first).toMatchObject({ revision: 0 });
    expect(JSON.parse(first?.data ?? '{}')).toMatchObject({ body: { sequence: 1 } });
    // Only the checkpoint's own copy came since: no second checkpoint.
    const again = await ledger(dataDir, 'audit', 'checkpoint', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ written: false });
    await appendNote('1');
    await checkpoint(dataDir);
    expect(copies().map((copy) => copy.revision)).toEqual([0, 1]);
    const { code, report } = await verified(dataDir);
    expect(code).toBe(0);
    expect(report).toMatchObject({
      ok: true,
      checkpointSource: 'store',
      inLogCheckpointCount: 2,
      latestCheckpoint: { sequence: 2 },
    });
  });

  it('verifies a copy of the log alone against its own checkpoints', async () => {
    rmSync(join(dataDir, 'audit-checkpoints.sqlite'));
    const passed = await verified(dataDir);
    expect(passed.code).toBe(0);
    expect(passed.report).toMatchObject({ ok: true, checkpointSource: 'log' });
    const last = sql(
      (database) =>
        database
          .prepare(
            "SELECT position, revision FROM events WHERE stream = 'account-wallet-a' ORDER BY revision DESC LIMIT 1",
          )
          .get() as { position: number; revision: number },
    );
    sql((database) => database.prepare('DELETE FROM events WHERE position = ?').run(last.position));
    const { code, report } = await verified(dataDir);
    expect(code).toBe(1);
    expect(report.findings).toContainEqual({
      kind: 'stream_tail_missing',
      stream: 'account-wallet-a',
      fromRevision: last.revision,
      toRevision: last.revision,
      sequence: 1,
    });
  });

  it('catches, through the external store, a log cut before its own later checkpoints', async () => {
    const firstCopy = copies()[0] as { position: number };
    await appendNote('2');
    await checkpoint(dataDir);
    // Cut everything from checkpoint 1's copy on: the log's own checkpoints go with it.
    sql((database) =>
      database.prepare('DELETE FROM events WHERE position >= ?').run(firstCopy.position),
    );
    const { code, report } = await verified(dataDir);
    expect(code).toBe(1);
    expect(report.checkpointSource).toBe('store');
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        kind: 'stream_tail_missing',
        stream: CHECKPOINT_STREAM,
        fromRevision: 0,
        sequence: 2,
      }),
    );
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'log_truncated', sequence: 2 }),
    );
  });

  it('names a copy in the log that the checkpoint store does not hold', async () => {
    // Another store's checkpoints: the data dir's store is replaced by an empty one, then signs.
    rmSync(join(dataDir, 'audit-checkpoints.sqlite'));
    await appendNote('3');
    await checkpoint(dataDir);
    const { code, report } = await verified(dataDir);
    expect(code).toBe(1);
    expect(report.findings).toContainEqual({ kind: 'checkpoint_copy_differs', sequence: 1 });
  });
});
