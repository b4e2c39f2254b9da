import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import type { LogVerification } from '../../domain/audit/log-verifier';
import { eventHash, GENESIS_HASH } from '../../domain/event-chain';
import type { EventMetadata, JsonObject } from '../../domain/ports/event-store.port';
import { writeHistory } from '../projections/support/ledger-fixture';

/** The built CLI (`npm run build` first) against a SQLite log tampered with directly. */
const LEDGER = join(__dirname, '../../dist/bin/ledger.js');
const run = promisify(execFile);

type Outcome = { code: number; stdout: string; stderr: string };

const ledger = async (dataDir: string, ...args: string[]): Promise<Outcome> => {
  try {
    const { stdout, stderr } = await run(process.execPath, [LEDGER, ...args], {
      env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout, stderr };
  } catch (error: unknown) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

const verified = async (dataDir: string, ...args: string[]) => {
  const outcome = await ledger(dataDir, 'audit', 'verify', '--json', ...args);
  return { code: outcome.code, report: JSON.parse(outcome.stdout) as LogVerification };
};

type Row = {
  position: number;
  revision: number;
  data: string;
  metadata: string;
  id: string;
  type: string;
};

describe('signed checkpoints catch what the hash chains cannot', () => {
  jest.setTimeout(120_000); // Each step runs the CLI in a process of its own.
  let dataDir: string;
  let eventsFile: string;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-checkpoints-'));
    eventsFile = join(dataDir, 'events.sqlite');
    const store = createSqliteEventStore({ path: eventsFile });
    await writeHistory(store);
    await store.close();
    const signed = await ledger(dataDir, 'audit', 'checkpoint', '--json');
    expect(signed.code).toBe(0);
    expect(JSON.parse(signed.stdout)).toMatchObject({ written: true, checkpoint: { sequence: 1 } });
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const withEvents = <T>(work: (database: Database.Database) => T): T => {
    const database = new Database(eventsFile);
    try {
      return work(database);
    } finally {
      database.close();
    }
  };
  const rowsOf = (stream: string): Row[] =>
    withEvents(
      (database) =>
        database
          .prepare('SELECT * FROM events WHERE stream = ? ORDER BY revision')
          .all(stream) as Row[],
    );

  it('passes an untouched log, and a second checkpoint only when the log moved', async () => {
    const { code, report } = await verified(dataDir);
    expect(code).toBe(0);
    expect(report).toMatchObject({
      ok: true,
      broken: null,
      checkpointProblems: [],
      findings: [],
      latestCheckpoint: { sequence: 1 },
    });
    const again = await ledger(dataDir, 'audit', 'checkpoint', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ written: false });
    const human = await ledger(dataDir, 'audit', 'verify');
    expect(human.stdout).toMatch(/every chain intact/);
    expect(human.stdout).toMatch(/^checked against checkpoint 1 of /m);
    expect(human.stdout).toMatch(/^OK$/m);
  });

  it("finds a stream's deleted last event: the stream, the revision, exit 1", async () => {
    const rows = rowsOf('account-wallet-a');
    const last = rows[rows.length - 1] as Row;
    withEvents((database) =>
      database.prepare('DELETE FROM events WHERE position = ?').run(last.position),
    );
    const { code, report } = await verified(dataDir);
    expect(code).toBe(1);
    expect(report.broken).toBeNull(); // Every remaining chain is intact: only the checkpoint knows.
    expect(report.findings).toContainEqual({
      kind: 'stream_tail_missing',
      stream: 'account-wallet-a',
      fromRevision: last.revision,
      toRevision: last.revision,
      sequence: 1,
    });
    const human = await ledger(dataDir, 'audit', 'verify');
    expect(human.stdout).toContain(
      `TAIL MISSING: account-wallet-a revisions ${last.revision}..${last.revision}`,
    );
    expect(human.stdout).toMatch(/^FAILED$/m);
  });

  it('finds a truncated log: where it ends, how many events are gone, which streams lost a tail', async () => {
    // The checkpoint's own copy in the log comes after the head it signed.
    const { head, count, cut } = withEvents((database) => {
      const signed = "WHERE stream != 'auditcheckpoints-log'";
      const headPosition = Number(
        database.prepare(`SELECT MAX(position) FROM events ${signed}`).pluck().get(),
      );
      const eventCount = Number(
        database.prepare(`SELECT COUNT(*) FROM events ${signed}`).pluck().get(),
      );
      const cutAfter = headPosition - 3;
      const streams = database
        .prepare(`SELECT DISTINCT stream FROM events ${signed} AND position > ?`)
        .pluck()
        .all(cutAfter) as string[];
      database.prepare('DELETE FROM events WHERE position > ?').run(cutAfter);
      return { head: headPosition, count: eventCount, cut: { after: cutAfter, streams } };
    });
    const { code, report } = await verified(dataDir);
    expect(code).toBe(1);
    expect(report.broken).toBeNull();
    expect(report.findings).toContainEqual({
      kind: 'log_truncated',
      headPositionSigned: String(head),
      eventCountSigned: count,
      headPositionFound: String(cut.after),
      eventCountFound: count - 3,
      sequence: 1,
    });
    const tails = report.findings.flatMap((found) =>
      found.kind === 'stream_tail_missing' ? [found.stream] : [],
    );
    expect(tails.sort()).toEqual([...cut.streams].sort());
    // The service refuses to sign over a cut log.
    const refused = await ledger(dataDir, 'audit', 'checkpoint');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/before checkpoint 1's head/);
  });

  it('finds a stream rewritten with recomputed hashes at the revision a checkpoint signed', async () => {
    const rows = rowsOf('account-wallet-a');
    const last = rows[rows.length - 1] as Row;
    withEvents((database) => {
      const update = database.prepare(
        'UPDATE events SET data = ?, metadata = ? WHERE position = ?',
      );
      let previousHash = GENESIS_HASH;
      for (const row of rows) {
        const data = JSON.parse(row.data) as JsonObject;
        if (row.revision === last.revision) data['amountMinor'] = 1;
        const metadata = JSON.parse(row.metadata) as EventMetadata;
        const hash = eventHash(previousHash, 'account-wallet-a', row.revision, {
          id: row.id,
          type: row.type,
          data,
          metadata,
        });
        update.run(JSON.stringify(data), JSON.stringify({ ...metadata, hash }), row.position);
        previousHash = hash;
      }
    });
    const { code, report } = await verified(dataDir);
    expect(code).toBe(1);
    expect(report.broken).toBeNull(); // The forger recomputed every hash: the chain is whole.
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: 'stream_rewritten',
        stream: 'account-wallet-a',
        revision: last.revision,
        sequence: 1,
      }),
    ]);
  });

  it('trusts only the keys it is given: a checkpoint signed by another key fails', async () => {
    const otherKey = join(dataDir, 'other.pem');
    writeFileSync(
      otherKey,
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const { code, report } = await verified(dataDir, '--public-key', otherKey);
    expect(code).toBe(1);
    expect(report.checkpointProblems).toEqual([
      { sequence: 1, problem: expect.stringMatching(/not trusted/) },
    ]);
  });

  describe('an exported bundle', () => {
    let bundle: string;
    let publicKey: string;
    beforeEach(async () => {
      bundle = join(dataDir, 'audit.bundle');
      publicKey = join(dataDir, 'auditor-copy.pem');
      writeFileSync(publicKey, readFileSync(join(dataDir, 'audit-public-key.pem')));
      const exported = await ledger(
        dataDir,
        'audit',
        'export',
        '--bundle',
        '--out',
        bundle,
        '--json',
      );
      expect(exported.code).toBe(0);
      // The bundle is all an auditor gets: the data dir is gone.
      rmSync(eventsFile);
    });

    const verifyBundle = (file: string) =>
      verified(join(dataDir, 'nowhere'), '--bundle', file, '--public-key', publicKey);
    const rewriteBundle = (edit: (lines: string[]) => string[]): string => {
      const file = join(dataDir, 'tampered.bundle');
      const lines = readFileSync(bundle, 'utf8').trim().split('\n');
      writeFileSync(file, `${edit(lines).join('\n')}\n`);
      return file;
    };
    const isEvent = (line: string, stream: string, revision: number): boolean => {
      const parsed = JSON.parse(line) as { kind: string; stream?: string; revision?: number };
      return parsed.kind === 'event' && parsed.stream === stream && parsed.revision === revision;
    };

    it('verifies offline with the public key alone', async () => {
      const { code, report } = await verifyBundle(bundle);
      expect(code).toBe(0);
      expect(report).toMatchObject({ ok: true, findings: [], latestCheckpoint: { sequence: 1 } });
      expect(report.eventCount).toBeGreaterThan(20);
    });

    it("fails when one event's amount changed, naming the stream and revision", async () => {
      const tampered = rewriteBundle((lines) =>
        lines.map((line) =>
          isEvent(line, 'account-wallet-a', 1)
            ? line.replace(
                /"amountMinor":(\d+)/,
                (_all, amount: string) => `"amountMinor":${Number(amount) + 1}`,
              )
            : line,
        ),
      );
      const { code, report } = await verifyBundle(tampered);
      expect(code).toBe(1);
      expect(report.broken).toMatchObject({ stream: 'account-wallet-a', revision: 1 });
    });

    it('fails when one event is removed: in the middle of a stream, or its last', async () => {
      const middle = await verifyBundle(
        rewriteBundle((lines) => lines.filter((line) => !isEvent(line, 'account-wallet-a', 1))),
      );
      expect(middle.code).toBe(1);
      // The chain breaks at the revision after the gap.
      expect(middle.report.broken).toMatchObject({ stream: 'account-wallet-a', revision: 2 });
      const lastRevision = Math.max(
        ...readFileSync(bundle, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { kind: string; stream?: string; revision?: number })
          .filter((line) => line.kind === 'event' && line.stream === 'account-wallet-b')
          .map((line) => line.revision as number),
      );
      const tail = await verifyBundle(
        rewriteBundle((lines) =>
          lines.filter((line) => !isEvent(line, 'account-wallet-b', lastRevision)),
        ),
      );
      expect(tail.code).toBe(1);
      expect(tail.report.broken).toBeNull();
      expect(tail.report.findings).toContainEqual(
        expect.objectContaining({
          kind: 'stream_tail_missing',
          stream: 'account-wallet-b',
          fromRevision: lastRevision,
        }),
      );
    });

    it('refuses to verify without a trusted key, and names a malformed line', async () => {
      const keyless = await ledger(dataDir, 'audit', 'verify', '--bundle', bundle);
      expect(keyless.code).not.toBe(0);
      expect(keyless.stderr).toContain('--bundle needs --public-key');
      const broken = rewriteBundle((lines) => [
        ...lines.slice(0, 3),
        '{not json',
        ...lines.slice(3),
      ]);
      const malformed = await ledger(
        dataDir,
        'audit',
        'verify',
        '--bundle',
        broken,
        '--public-key',
        publicKey,
      );
      expect(malformed.code).not.toBe(0);
      expect(malformed.stderr).toContain('bundle line 4: not JSON');
      const noBody = rewriteBundle((lines) =>
        lines.map((line) =>
          line.startsWith('{"kind":"checkpoint"') ? '{"kind":"checkpoint","hash":"x"}' : line,
        ),
      );
      const badCheckpoint = await ledger(
        dataDir,
        'audit',
        'verify',
        '--bundle',
        noBody,
        '--public-key',
        publicKey,
      );
      expect(badCheckpoint.code).not.toBe(0);
      expect(badCheckpoint.stderr).toMatch(/bundle line \d+: malformed checkpoint/);
    });
  });
});
