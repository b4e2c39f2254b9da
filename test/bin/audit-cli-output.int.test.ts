import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import type { EventStore } from '../../domain/ports/event-store.port';
import { writeHistory } from '../projections/support/ledger-fixture';

/** The built CLI (`npm run build` first): `--json` on stdout, progress lines on stderr. */
const LEDGER = join(__dirname, '../../dist/bin/ledger.js');
const BULK_EVENT_COUNT = 2500; // Three pages of the audit's 1,000-event reads.

const run = promisify(execFile);
const ledger = (dataDir: string, ...args: string[]) =>
  run(process.execPath, [LEDGER, ...args], {
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
  });

/** Events of a category no audit folds: a log long enough for several progress lines. */
const appendBulk = async (store: EventStore): Promise<void> => {
  const metadata = {
    correlationId: 'c',
    causationId: null,
    actor: { clientId: 'admin', role: 'admin', ip: '127.0.0.1' },
    idempotencyKey: null,
    occurredAt: new Date(0).toISOString(),
    schemaVersion: 1,
    hash: 'h',
  };
  for (let first = 0; first < BULK_EVENT_COUNT; first += 500) {
    const events = Array.from({ length: 500 }, (_, offset) => ({
      id: `00000000-0000-4000-8000-${String(first + offset).padStart(12, '0')}`,
      type: 'Probed',
      data: { index: first + offset },
      metadata,
    }));
    const expected =
      first === 0
        ? { kind: 'no_stream' as const }
        : { kind: 'exact' as const, revision: first - 1 };
    const result = await store.append('probe-bulk', events, expected);
    if (!result.ok) throw new Error('fixture: append refused');
  }
};

describe('the ledger CLI: --json and progress', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
    const store = createSqliteEventStore({ path: join(dataDir, 'events.sqlite') });
    await writeHistory(store);
    await appendBulk(store);
    await store.close();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints one JSON document on stdout and progress lines on stderr off a terminal', async () => {
    const { stdout, stderr } = await ledger(
      dataDir,
      'audit',
      'balances',
      '--json',
      '--progress-every-ms',
      '0',
    );
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ balanced: true, openTransferCount: 0 });
    const lines = stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4); // A line per page, then the last line.
    expect(lines[0]).toMatch(/^audit balances: 1000 events, \d+%$/);
    expect(lines.at(-1)).toMatch(
      new RegExp(`^audit balances: done, ${report.eventCount} events in [0-9.]+ s$`),
    );
  });

  it('prints a human summary without --json, and only the last line within the interval', async () => {
    const { stdout, stderr } = await ledger(dataDir, 'audit', 'balances');
    expect(stdout).toMatch(/^EUR: 3 accounts, Σ credits − Σ debits = 0$/m);
    expect(stdout).toMatch(/open transfers: balanced$/m);
    expect(stderr).toMatch(/^audit balances: done, \d+ events in [0-9.]+ s\n$/);
  });

  it('verifies the chains of the history with --json (the bulk stream has no chain)', async () => {
    const { stdout } = await ledger(dataDir, 'audit', 'verify', '--json').catch(
      (failed: { stdout: string; code: number }) => {
        expect(failed.code).toBe(1); // The bulk events carry a fake hash: a broken link.
        return failed;
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ broken: { stream: 'probe-bulk', revision: 0 } });
  });

  it('exports to a file with --out, and --json tells how many events', async () => {
    const out = join(dataDir, 'export.jsonl');
    const { stdout } = await ledger(dataDir, 'audit', 'export', '--out', out, '--json');
    const { eventCount } = JSON.parse(stdout) as { eventCount: number };
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(eventCount);
    expect(eventCount).toBeGreaterThan(BULK_EVENT_COUNT);
    await expect(ledger(dataDir, 'audit', 'export', '--json')).rejects.toMatchObject({
      stderr: expect.stringContaining('--json needs --out'),
    });
  });
});
