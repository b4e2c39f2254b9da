import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteReconciliationStore } from '../../adapters/reconciliation/sqlite.reconciliation-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { sandboxStatementSource, startDailyReconciliation } from '../../bin/reconciliation';
import type {
  ReconciliationReportRecord,
  ReconciliationStore,
} from '../../domain/ports/reconciliation-store.port';
import type { RunReconciliationNow } from '../../api/routes/reconciliations.route';
import { createLedgerApp, type LedgerApp } from '../api/support/ledger-app';
import { eventually } from '../support/eventually';
import { captureLogs } from '../support/log-capture';

/**
 * POST /v1/reconciliations/runs: the daily run of today, now. A sandbox payment paid with its
 * notification lost is credited by it (once, however many runs), a future day and a channel the
 * service does not reconcile are refused, and the 02:00 run of the day still happens.
 */
const TIME_ZONE = 'Asia/Shanghai';
/** 2026-03-01 18:00 in Shanghai. */
let clockMs = Date.parse('2026-03-01T10:00:00Z');
const clock = () => clockMs;

let dataDir: string;
let store: ReconciliationStore;
let app: LedgerApp;
let schedule: ReturnType<typeof startDailyReconciliation>;
const logs = captureLogs();
const alerts: string[] = [];

type RunAnswer = {
  report: ReconciliationReportRecord;
  repairedCount: number;
  openItemCount: number;
};

const runNow = (body: object, key = app.keys.admin) =>
  app.post('/v1/reconciliations/runs', body, key);

const lostPayment = async (): Promise<string> => {
  const created = await app.post(
    '/v1/payments',
    {
      merchantOrderNo: `run-${clockMs}`,
      amountMinor: 1000,
      currency: 'CNY',
      channel: 'sandbox',
      subject: 'Plan',
      creditAccountId: 'shop-cny',
    },
    app.keys.merchant,
  );
  expect(created.status).toBe(201);
  const { paymentId } = (created.body.data as { payment: { paymentId: string } }).payment;
  const pay = await app.post(
    `/v1/sandbox/orders/${paymentId}/pay`,
    { loseNotification: true },
    app.keys.merchant,
  );
  expect([pay.status, pay.body.data.notification]).toEqual([200, 'lost']);
  return paymentId;
};

const paymentOf = async (paymentId: string) =>
  (await app.get(`/v1/payments/${paymentId}`, app.keys.merchant)).body.data.payment as {
    status: string;
    recovered?: boolean;
  };

const successCount = async (paymentId: string): Promise<number> =>
  (
    await app.store.readStream(`payment-${paymentId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 100,
    })
  ).filter((event) => event.type === 'PaymentSucceeded').length;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'recon-runs-'));
  store = createSqliteReconciliationStore(openSqliteDatabase(join(dataDir, 'service.sqlite')));
  let late: RunReconciliationNow = async () => {
    throw new Error('not started');
  };
  app = await createLedgerApp({
    nowMs: clock,
    reconciliationStore: store,
    reconciliationRunNow: (channel, day) => late(channel, day),
  });
  schedule = startDailyReconciliation({
    config: { dailyAt: { hour: 2, minute: 0 }, timeZone: TIME_ZONE },
    sources: [sandboxStatementSource(dataDir, app.sandbox)],
    unfetchedChannels: ['alipay'],
    store,
    eventStore: app.store,
    runtime: app.runtime,
    alerts: { raise: (kind) => alerts.push(kind) },
    logger: logs.logger,
    clock,
    limits: { tickMs: 5, catchUpDayCountMax: 31, retryPauseMs: 60_000, pageEventCountMax: 100 },
  });
  late = schedule.runNow;
  await app.post('/v1/accounts', { accountId: 'shop-cny', currency: 'CNY' }, app.keys.merchant);
});

afterAll(async () => {
  await schedule.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('POST /v1/reconciliations/runs', () => {
  let paymentId: string;

  it('credits a payment whose success notification was lost, now, as a manual report', async () => {
    paymentId = await lostPayment();
    clockMs += 60_000;
    expect((await paymentOf(paymentId)).status).toBe('pending');
    const response = await runNow({ channel: 'sandbox' });
    expect(response.status).toBe(201);
    const { report, repairedCount, openItemCount } = response.body.data as RunAnswer;
    expect(report).toMatchObject({
      channel: 'sandbox',
      day: '2026-03-01',
      manual: true,
      status: 'complete',
      to: new Date(clockMs).toISOString(),
    });
    expect(report.reportId).toBe(`sandbox-2026-03-01-manual-${clockMs}`);
    expect([repairedCount, openItemCount]).toEqual([1, 0]);
    expect(report.items).toEqual([
      expect.objectContaining({
        status: 'repaired',
        discrepancy: expect.objectContaining({ kind: 'status_mismatch', paymentId }),
      }),
    ]);
    expect(await paymentOf(paymentId)).toMatchObject({ status: 'succeeded', recovered: true });
    const read = await app.get(`/v1/reconciliations/${report.reportId}`, app.keys.auditor);
    expect(read.status).toBe(200);
  });

  it('repairs nothing again on a second manual run', async () => {
    clockMs += 60_000;
    const response = await runNow({ channel: 'sandbox', day: '2026-03-01' });
    expect(response.status).toBe(201);
    const { report, repairedCount } = response.body.data as RunAnswer;
    expect([report.items.length, repairedCount, report.matchedCount]).toEqual([0, 0, 1]);
    expect(await successCount(paymentId)).toBe(1);
  });

  it('refuses a future day, a channel it does not fetch, a bad body and a non-admin', async () => {
    const future = await runNow({ channel: 'sandbox', day: '2026-03-02' });
    expect([future.status, future.body.code]).toEqual([422, 42292]);
    const unfetched = await runNow({ channel: 'alipay' });
    expect([unfetched.status, unfetched.body.code]).toEqual([422, 42293]);
    const unconfigured = await runNow({ channel: 'stripe' });
    expect([unconfigured.status, unconfigured.body.code]).toEqual([422, 42291]);
    expect((await runNow({ channel: 'sandbox', day: '2026-3-1' })).status).toBe(400);
    expect((await runNow({ channel: 'sandbox' }, app.keys.merchant)).status).toBe(403);
  });

  it('leaves the day to the 02:00 run, which finds it repaired and does not repair it again', async () => {
    const days = await store.reconciledDays('sandbox', '2026-02-01');
    expect(days.doneDays.has('2026-03-01')).toBe(false);
    clockMs = Date.parse('2026-03-01T18:00:01Z'); // 2026-03-02 02:00:01 in Shanghai
    const scheduled = await eventually(
      async () => {
        const report = await store.get('sandbox-2026-03-01');
        return report?.status === 'complete' ? report : undefined;
      },
      { timeoutMs: 10_000, what: 'the scheduled report of 2026-03-01' },
    );
    expect(scheduled).toMatchObject({ manual: false, itemCount: 0, matchedCount: 1 });
    expect(await successCount(paymentId)).toBe(1);
    expect((await store.reconciledDays('sandbox', '2026-02-01')).doneDays.has('2026-03-01')).toBe(
      true,
    );
    const list = await app.get('/v1/reconciliations?channel=sandbox', app.keys.auditor);
    const ids = (list.body.data as { reports: { reportId: string }[] }).reports.map(
      (report) => report.reportId,
    );
    expect(ids).toEqual(expect.arrayContaining(['sandbox-2026-03-01']));
    expect(ids.filter((id) => id.startsWith('sandbox-2026-03-01-manual-'))).toHaveLength(2);
  });
});
