import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays, latestDueDay } from '../../domain/reconciliation/daily-schedule';
import { eventually } from '../support/eventually';
import {
  ADMIN_KEY,
  freePort,
  getJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * The built service reconciles at start-up the latest due day it never reconciled (the sandbox's
 * statement), keeps the report, serves it on GET /v1/reconciliations and exports the gauge the
 * LedgerReconciliationDifferences rule reads. The schedule itself is tested on an injected clock
 * in test/bin/daily-reconciliation.int.test.ts.
 */
describe('the daily reconciliation in the running service', () => {
  jest.setTimeout(60_000);
  let dataDir = '';
  let service: ServiceProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-daily-recon-'));
    service = await startServiceProcess(dataDir, await freePort(), {
      RECONCILIATION_DAILY_AT: '02:00',
      RECONCILIATION_TIMEZONE: 'Asia/Shanghai',
    });
  });

  afterAll(async () => {
    if (service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reconciles the latest due day at start and serves its report and gauge', async () => {
    const dayAtStart = latestDueDay(Date.now(), { hour: 2, minute: 0 }, 'Asia/Shanghai');
    const report = await eventually(
      async () => {
        const answer = await getJson(service.baseUrl, '/v1/reconciliations');
        const reports = answer.body.data['reports'] as { status: string; day: string }[];
        const [only] = reports;
        return reports.length === 1 && only?.status === 'complete' ? only : undefined;
      },
      { timeoutMs: 20_000, what: 'the start-up report' },
    );
    // The day due when the test began (or the next one, had 02:00 Shanghai passed meanwhile).
    expect([dayAtStart, addDays(dayAtStart, 1)]).toContain(report.day);
    const read = await getJson(service.baseUrl, `/v1/reconciliations/sandbox-${report.day}`);
    expect(read.body.data['report']).toMatchObject({ channel: 'sandbox', itemCount: 0, items: [] });
    const metrics = await fetch(`${service.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const text = await metrics.text();
    expect(text).toContain('ledger_reconciliation_unresolved_differences{channel="sandbox"} 0');
    expect(text).toContain('ledger_reconciliation_runs_total{channel="sandbox",outcome="clean"} 1');
  });
});
