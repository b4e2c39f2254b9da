import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

  describe('run', () => {
    let server: Server;
    let url: string;
    const seen: {
      method: string | undefined;
      url: string | undefined;
      headers: IncomingMessage['headers'];
      body: string;
    }[] = [];
    let answer: { status: number; body: unknown } = { status: 201, body: {} };
    beforeAll(async () => {
      server = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          seen.push({ method: request.method, url: request.url, headers: request.headers, body });
          response.writeHead(answer.status, { 'content-type': 'application/json' });
          response.end(JSON.stringify(answer.body));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      writeFileSync(join(dir, 'admin-api-key'), 'lsk_test_cli_admin\n'); // as the service writes it
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('asks the service to run a day now and prints the report', async () => {
      answer = {
        status: 201,
        body: {
          code: 0,
          msg: 'ok',
          data: {
            report: {
              reportId: 'sandbox-2026-03-01-manual-1',
              status: 'complete',
              matchedCount: 2,
              openItemCount: 0,
              items: [
                {
                  itemId: '1',
                  status: 'repaired',
                  discrepancy: { kind: 'status_mismatch', paymentId: 'p2' },
                  repair: { outcome: 'succeeded', position: '9', attemptedAt: '' },
                  resolution: null,
                },
              ],
            },
            repairedCount: 1,
            openItemCount: 0,
          },
        },
      };
      await run('reconciliations', 'run', '--day', '2026-03-01', '--url', url);
      expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/reconciliations/runs' });
      expect(seen[0]?.headers['authorization']).toBe('Bearer lsk_test_cli_admin');
      expect(seen[0]?.headers['idempotency-key']).toMatch(/^reconciliation-run-/);
      expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ channel: 'sandbox', day: '2026-03-01' });
      expect(output).toBe(
        'sandbox-2026-03-01-manual-1 complete: 2 matched, 1 repaired, 0 open\n' +
          '1\trepaired\tstatus_mismatch\tp2 (repair: succeeded)\n',
      );
      expect(process.exitCode).toBe(0);
    });

    it('fails on a refusal, and refuses a malformed day itself', async () => {
      answer = {
        status: 422,
        body: { code: 42292, msg: 'this day has not begun yet', data: null },
      };
      await expect(run('reconciliations', 'run', '--url', url)).rejects.toThrow(
        'reconciliation run refused (422 42292): this day has not begun yet',
      );
      expect(JSON.parse(seen[1]?.body ?? '')).toEqual({ channel: 'sandbox' });
      await expect(
        run('reconciliations', 'run', '--day', '1.3.2026', '--url', url),
      ).rejects.toThrow(/YYYY-MM-DD/);
    });
  });
});
