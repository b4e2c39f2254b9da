import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendSandboxJournal } from '../../adapters/channels/sandbox.journal';
import { createSqliteReconciliationStore } from '../../adapters/reconciliation/sqlite.reconciliation-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { sandboxStatementSource, startDailyReconciliation } from '../../bin/reconciliation';
import type { AlertKind } from '../../domain/ports/alert.port';
import type {
  ReconciliationReportRecord,
  ReconciliationStore,
} from '../../domain/ports/reconciliation-store.port';
import { paymentAggregate } from '../../domain/payment/payment.decider';
import { runReconciliationDay } from '../../domain/reconciliation/daily-run';
import { createLedgerApp, type LedgerApp } from '../api/support/ledger-app';
import { eventually } from '../support/eventually';
import { captureLogs } from '../support/log-capture';

/**
 * The daily reconciliation against the sandbox, on an injected clock: the 02:00 run (Shanghai
 * time), a missed success repaired through the normal command, an amount mismatch left for a
 * person (alerted, resolved with a note), two instances repairing the same day once, a restart
 * re-running nothing, and the catch-up of days missed while the service was down.
 */
const TIME_ZONE = 'Asia/Shanghai';
const LIMITS = {
  tickMs: 5,
  catchUpDayCountMax: 31,
  retryPauseMs: 60_000,
  pageEventCountMax: 100,
};
/** 2026-03-01 18:00 in Shanghai. */
let clockMs = Date.parse('2026-03-01T10:00:00Z');
const clock = () => clockMs;

let dataDir: string;
let store: ReconciliationStore;
let app: LedgerApp;
const alerts: { kind: AlertKind; subject: string }[] = [];
const logs = captureLogs();
let orderCount = 0;

const startSchedule = (reportStore: ReconciliationStore = store) =>
  startDailyReconciliation({
    config: { dailyAt: { hour: 2, minute: 0 }, timeZone: TIME_ZONE },
    sources: [sandboxStatementSource(dataDir, app.sandbox)],
    unfetchedChannels: [],
    store: reportStore,
    eventStore: app.store,
    runtime: app.runtime,
    alerts: { raise: (kind, subject) => alerts.push({ kind, subject }) },
    logger: logs.logger,
    clock,
    limits: LIMITS,
  });

const completeReport = (reportId: string, reportStore: ReconciliationStore = store) =>
  eventually(
    async () => {
      const report = await reportStore.get(reportId);
      return report?.status === 'complete' ? report : undefined;
    },
    { timeoutMs: 10_000, what: `report ${reportId} complete` },
  );

/** A sandbox payment of 10.00 CNY; the payer pays it; `deliver` false: its callback is lost. */
const paidPayment = async (deliver: boolean): Promise<{ paymentId: string }> => {
  orderCount += 1;
  const response = await app.post(
    '/v1/payments',
    {
      merchantOrderNo: `recon-${orderCount}`,
      amountMinor: 1000,
      currency: 'CNY',
      channel: 'sandbox',
      subject: 'Plan',
      creditAccountId: 'shop-cny',
    },
    app.keys.merchant,
  );
  expect(response.status).toBe(201);
  const { paymentId } = (response.body.data as { payment: { paymentId: string } }).payment;
  app.sandbox.pay(paymentId);
  if (deliver) await app.sandbox.flush();
  return { paymentId };
};

const paymentStatus = async (paymentId: string): Promise<string> => {
  const response = await app.get(`/v1/payments/${paymentId}`, app.keys.merchant);
  return (response.body.data as { payment: { status: string } }).payment.status;
};

const successEvents = async (paymentId: string) =>
  (
    await app.store.readStream(`payment-${paymentId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 100,
    })
  ).filter((event) => event.type === 'PaymentSucceeded');

/** A refund the ledger requested and the sandbox made, its success notification lost. */
const lostRefund = async (paymentId: string, refundId: string): Promise<void> => {
  const now = new Date(clockMs).toISOString();
  const context = {
    correlationId: refundId,
    causationId: null,
    actor: { clientId: 'test', role: 'merchant', ip: null },
    idempotencyKey: null,
    now,
    eventIdSeed: null,
  };
  const requested = await app.runtime.execute(
    paymentAggregate,
    paymentId,
    { type: 'RequestRefund', data: { refundId, amountMinor: 400, reason: 'test', now } },
    context,
  );
  expect(requested.ok).toBe(true);
  const transactionId = app.sandbox.statementRows().find((row) => row.paymentId === paymentId);
  const answer = await app.sandbox.gateway.refund(
    {
      paymentId,
      refundId,
      amountMinor: 400,
      currency: 'CNY',
      channelTransactionId: transactionId?.channelTransactionId ?? '',
    },
    AbortSignal.timeout(5000),
  );
  expect(answer.ok).toBe(true);
};

const itemOf = (report: ReconciliationReportRecord, paymentId: string) =>
  report.items.find((item) => item.discrepancy.paymentId === paymentId);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'daily-recon-'));
  store = createSqliteReconciliationStore(openSqliteDatabase(join(dataDir, 'service.sqlite')));
  app = await createLedgerApp({ nowMs: clock, reconciliationStore: store });
  await app.post('/v1/accounts', { accountId: 'shop-cny', currency: 'CNY' }, app.keys.merchant);
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('daily automatic reconciliation', () => {
  let lost: { paymentId: string };
  let mismatched: { paymentId: string };
  let matched: { paymentId: string };
  let refunded: { paymentId: string };

  it('runs at 02:00 the next day: repairs a lost success and refund, reports an amount mismatch', async () => {
    matched = await paidPayment(true);
    refunded = await paidPayment(true);
    mismatched = await paidPayment(true);
    // No flush from here on: the refund's and the last payment's notifications are lost.
    await lostRefund(refunded.paymentId, 'refund-1');
    lost = await paidPayment(false);
    // The channel's statement says the mismatched payment took 10.01: its journal line wins.
    const row = app.sandbox
      .statementRows()
      .find((found) => found.paymentId === mismatched.paymentId);
    if (row === undefined) throw new Error('sandbox row missing');
    appendSandboxJournal(dataDir, { ...row, amountMinor: 1001 });
    expect(await paymentStatus(lost.paymentId)).toBe('pending');

    const schedule = startSchedule();
    // At start the latest due day (the 28th, nothing paid) runs; the 1st is not due yet.
    await completeReport('sandbox-2026-02-28');
    clockMs = Date.parse('2026-03-01T18:00:00Z'); // 2026-03-02 02:00 in Shanghai.
    const report = await completeReport('sandbox-2026-03-01');
    await schedule.stop();

    expect(report).toMatchObject({ statementRowCount: 5, matchedCount: 2, openItemCount: 1 });
    expect(itemOf(report, matched.paymentId)).toBeUndefined();
    expect(itemOf(report, lost.paymentId)).toMatchObject({
      status: 'repaired',
      discrepancy: { kind: 'status_mismatch', ledgerStatus: 'pending' },
      repair: { outcome: 'succeeded' },
    });
    expect(itemOf(report, mismatched.paymentId)).toMatchObject({
      status: 'open',
      discrepancy: { kind: 'amount_mismatch', channelAmountMinor: 1001, ledgerAmountMinor: 1000 },
      repair: null,
    });
    expect(itemOf(report, refunded.paymentId)).toMatchObject({
      status: 'repaired',
      discrepancy: { kind: 'refund_mismatch', refundId: 'refund-1', ledgerStatus: 'requested' },
      repair: { outcome: 'refund succeeded' },
    });
    const refunds = await app.get(`/v1/payments/${refunded.paymentId}`, app.keys.merchant);
    expect(refunds.body.data.payment).toMatchObject({ refundedMinor: 400 });
    expect(await paymentStatus(lost.paymentId)).toBe('succeeded');
    const [success] = await successEvents(lost.paymentId);
    expect(success?.metadata.actor.clientId).toBe('system:reconciliation');
    expect(success?.data).toMatchObject({ recovered: true });
    expect(alerts).toEqual([{ kind: 'reconciliation_difference', subject: 'sandbox' }]);
    expect(await schedule.openItemCounts()).toEqual([{ channel: 'sandbox', count: 1 }]);
    const logged = logs.lines().find((line) => line['message'] === 'reconciliation_difference');
    expect(logged).toMatchObject({ paymentId: mismatched.paymentId, kind: 'amount_mismatch' });
  });

  it('re-running a complete day changes nothing (a restart)', async () => {
    const headBefore = await app.store.headPosition();
    const before = await store.get('sandbox-2026-03-01');
    const again = await runReconciliationDay(
      { store, eventStore: app.store, runtime: app.runtime, pageEventCountMax: 100, nowMs: clock },
      sandboxStatementSource(dataDir, app.sandbox),
      '2026-03-01',
      TIME_ZONE,
    );
    expect(again).toEqual({ report: before, leftOpen: [] });
    expect(await app.store.headPosition()).toBe(headBefore);
  });

  it('two instances reconciling the same day repair a payment once', async () => {
    clockMs = Date.parse('2026-03-02T10:00:00Z'); // The 2nd, 18:00 in Shanghai.
    const lostAgain = await paidPayment(false);
    clockMs = Date.parse('2026-03-02T18:00:00Z');
    const other = createSqliteReconciliationStore(openSqliteDatabase(':memory:'));
    const run = (reportStore: ReconciliationStore) =>
      runReconciliationDay(
        {
          store: reportStore,
          eventStore: app.store,
          runtime: app.runtime,
          pageEventCountMax: 100,
          nowMs: clock,
        },
        sandboxStatementSource(dataDir, app.sandbox),
        '2026-03-02',
        TIME_ZONE,
      );
    const [mine, theirs] = await Promise.all([run(store), run(other)]);
    for (const { report } of [mine, theirs])
      expect(itemOf(report, lostAgain.paymentId)).toMatchObject({ status: 'repaired' });
    expect(await successEvents(lostAgain.paymentId)).toHaveLength(1);
  });

  it('catches up the days missed while the service was down, at start', async () => {
    clockMs = Date.parse('2026-03-05T01:00:00Z'); // The 5th, 09:00 in Shanghai: 3rd and 4th due.
    const schedule = startSchedule();
    const [third, fourth] = [
      await completeReport('sandbox-2026-03-03'),
      await completeReport('sandbox-2026-03-04'),
    ];
    await schedule.stop();
    expect([third.itemCount, fourth.itemCount]).toEqual([0, 0]);
    const { reports } = await store.list({ channel: 'sandbox', pageNum: 1, pageSize: 10 });
    expect(reports.map((report) => report.day)).toEqual([
      '2026-03-04',
      '2026-03-03',
      '2026-03-02',
      '2026-03-01',
      '2026-02-28',
    ]);
  });

  it('resumes a run that crashed between its report and its repairs', async () => {
    clockMs = Date.parse('2026-03-05T10:00:00Z');
    const lostThere = await paidPayment(false);
    clockMs = Date.parse('2026-03-05T18:00:00Z');
    const deps = {
      store,
      eventStore: app.store,
      runtime: app.runtime,
      pageEventCountMax: 100,
      nowMs: clock,
    };
    const crashing = {
      ...app.runtime,
      execute: () => Promise.reject(new Error('killed mid-repair')),
    };
    const source = sandboxStatementSource(dataDir, app.sandbox);
    await expect(
      runReconciliationDay({ ...deps, runtime: crashing }, source, '2026-03-05', TIME_ZONE),
    ).rejects.toThrow('killed mid-repair');
    const running = await store.get('sandbox-2026-03-05');
    expect(running?.status).toBe('running');
    const item = running?.items.find(
      (found) => found.discrepancy.paymentId === lostThere.paymentId,
    );
    expect(item).toMatchObject({ status: 'open', repair: null });
    const { report } = await runReconciliationDay(deps, source, '2026-03-05', TIME_ZONE);
    expect(report.status).toBe('complete');
    expect(itemOf(report, lostThere.paymentId)).toMatchObject({ status: 'repaired' });
    expect(await successEvents(lostThere.paymentId)).toHaveLength(1);
  });

  it('lists and reads reports, and resolves an item with a note (admin), once', async () => {
    const list = await app.get('/v1/reconciliations?channel=sandbox&page_size=2', app.keys.auditor);
    expect(list.status).toBe(200);
    expect(list.body.data).toMatchObject({ total_count: 6, total_page: 3 });
    const read = await app.get('/v1/reconciliations/sandbox-2026-03-01', app.keys.auditor);
    const report = read.body.data.report as ReconciliationReportRecord;
    const item = itemOf(report, mismatched.paymentId);
    const path = `/v1/reconciliations/sandbox-2026-03-01/items/${item?.itemId}/resolve`;
    const note = { note: 'payer refunded 0.01 by hand, ticket OPS-12' };

    expect((await app.post(path, note, app.keys.auditor)).status).toBe(403);
    const blank = await app.post(path, { note: '  ' }, app.keys.admin);
    expect(blank.status).toBe(400);
    const resolved = await app.post(path, note, app.keys.admin);
    expect(resolved.status).toBe(200);
    expect(resolved.body.data.item).toMatchObject({
      status: 'resolved',
      resolution: { note: note.note, resolvedAt: new Date(clockMs).toISOString() },
    });
    const twice = await app.post(path, note, app.keys.admin);
    expect([twice.status, twice.body.code]).toEqual([409, 40992]);
    const repairedPath = `/v1/reconciliations/sandbox-2026-03-01/items/${itemOf(report, lost.paymentId)?.itemId}/resolve`;
    expect((await app.post(repairedPath, note, app.keys.admin)).status).toBe(409);
    const missing = await app.get('/v1/reconciliations/sandbox-2025-01-01', app.keys.auditor);
    expect([missing.status, missing.body.code]).toEqual([404, 40492]);
    const noItem = await app.post(
      '/v1/reconciliations/sandbox-2026-03-01/items/99/resolve',
      note,
      app.keys.admin,
    );
    expect([noItem.status, noItem.body.code]).toEqual([404, 40493]);
    expect(await store.openItemCounts()).toEqual([]);
  });
});
