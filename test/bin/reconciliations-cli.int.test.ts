import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createSqliteReconciliationStore } from '../../adapters/reconciliation/sqlite.reconciliation-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { registerReconciliationCommands } from '../../bin/reconciliations-cli';

describe('ledger reconciliations list, show, resolve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reconciliations-cli-'));
  const saved = { dataDir: process.env['DATA_DIR'], exitCode: process.exitCode };
  let output = '';
  const run = async (...args: string[]): Promise<void> => {
    const program = new Command('ledger').exitOverride();
    registerReconciliationCommands(program);
    await program.parseAsync(['node', 'ledger', ...args]);
  };

  beforeAll(async () => {
    process.env['DATA_DIR'] = dir;
    const database = openSqliteDatabase(join(dir, 'service.sqlite'));
    await createSqliteReconciliationStore(database).open({
      reportId: 'sandbox-2026-03-01',
      channel: 'sandbox',
      day: '2026-03-01',
      timeZone: 'UTC',
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-02T00:00:00.000Z',
      startedAt: '2026-03-02T02:00:00.000Z',
      statementRowCount: 1,
      ledgerPaymentCount: 1,
      matchedCount: 0,
      discrepancies: [
        {
          kind: 'ledger_only',
          paymentId: 'p1',
          channelTransactionId: 'tx-1',
          ledgerStatus: 'succeeded',
          amountMinor: 100,
          currency: 'CNY',
        },
      ],
    });
    database.close();
  });
  beforeEach(() => {
    output = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output += chunk.toString();
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => {
    if (saved.dataDir === undefined) delete process.env['DATA_DIR'];
    else process.env['DATA_DIR'] = saved.dataDir;
    process.exitCode = saved.exitCode;
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the reports and shows the open difference (exit 1)', async () => {
    await run('reconciliations', 'list');
    expect(output).toBe('sandbox-2026-03-01\trunning\t1 differences, 1 open\n');
    output = '';
    await run('reconciliations', 'show', 'sandbox-2026-03-01');
    expect(output).toContain('1\topen\tledger_only\tp1');
    expect(process.exitCode).toBe(1);
  });

  it('resolves it with a note, once; a blank note is refused', async () => {
    await expect(
      run('reconciliations', 'resolve', 'sandbox-2026-03-01', '1', '--note', ' '),
    ).rejects.toThrow(/not blank/);
    await run('reconciliations', 'resolve', 'sandbox-2026-03-01', '1', '--note', 'booked by hand');
    expect(output).toBe('sandbox-2026-03-01 item 1 resolved\n');
    await expect(
      run('reconciliations', 'resolve', 'sandbox-2026-03-01', '1', '--note', 'again'),
    ).rejects.toThrow('item_not_open');
    output = '';
    await run('reconciliations', 'show', 'sandbox-2026-03-01', '--json');
    expect(JSON.parse(output)).toMatchObject({
      openItemCount: 0,
      items: [{ status: 'resolved', resolution: { note: 'booked by hand' } }],
    });
    expect(process.exitCode).toBe(0);
  });
});
