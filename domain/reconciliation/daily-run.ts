import type { ActorRuntime } from '../actors/actor-runtime';
import type { EventStore } from '../ports/event-store.port';
import type {
  ReconciliationItem,
  ReconciliationReportRecord,
  ReconciliationStore,
  StatementSource,
} from '../ports/reconciliation-store.port';
import { manualReportIdOf, reportIdOf } from '../ports/reconciliation-store.port';
import { dayBoundsMs } from './daily-schedule';
import { foldPaymentStates, ledgerPaymentsOf, ledgerRefundsOf } from './ledger-payments';
import { reconcile, reconcileRefunds, rowsByPayment } from './reconciliation';
import { applyRepair, isRepaired, repairOf, repairOutcomeOf } from './repair';

/** What a manual run (POST /v1/reconciliations/runs) met: its report, or why it did not run. */
export type ManualRunOutcome =
  | { ok: true; report: ReconciliationReportRecord; repairedCount: number }
  | { ok: false; reason: 'day_in_future' | 'channel_not_configured' | 'channel_not_fetched' };

type DailyRunDeps = {
  store: ReconciliationStore;
  eventStore: EventStore;
  runtime: ActorRuntime;
  /** Log events read per page while folding the ledger's payments. */
  pageEventCountMax: number;
  nowMs: () => number;
};

/**
 * One channel's reconciliation of one local day: fetch the statement, compare it with the ledger,
 * keep the report, repair what repairOf allows, mark the report complete. Safe to run again at
 * any point: a complete report is returned as it is; a running one (a crash mid-run) keeps its
 * items and resumes the repairs not yet recorded, whose commands are keyed by statement row.
 * Returns the report and the items left open for a person by this run.
 *
 * `manual`: an operator's run now, of the day so far (up to nowMs when the day is today), kept as
 * its own report (manualReportIdOf) that does not count as the day's scheduled run; its repairs
 * carry the same statement-row keys, so the scheduled run later finds them recorded.
 */
export const runReconciliationDay = async (
  deps: DailyRunDeps,
  source: StatementSource,
  day: string,
  timeZone: string,
  options: { manual: boolean } = { manual: false },
): Promise<{ report: ReconciliationReportRecord; leftOpen: ReconciliationItem[] }> => {
  const { store } = deps;
  const { manual } = options;
  const startedAtMs = deps.nowMs();
  const reportId = manual
    ? manualReportIdOf(source.channel, day, startedAtMs)
    : reportIdOf(source.channel, day);
  const existing = await store.get(reportId);
  if (existing?.status === 'complete') return { report: existing, leftOpen: [] };
  const bounds = dayBoundsMs(day, timeZone);
  const period = manual ? { ...bounds, toMs: Math.min(bounds.toMs, startedAtMs) } : bounds;
  const rows = await source.statementRows(period);
  const refundRows = await source.refundRows(period);
  const report =
    existing ??
    (await (async () => {
      const states = await foldPaymentStates(deps.eventStore, deps.pageEventCountMax);
      const payments = reconcile(rows, ledgerPaymentsOf(states, source.channel), period);
      const refunds = reconcileRefunds(refundRows, ledgerRefundsOf(states, source.channel));
      const discrepancies = [...payments.discrepancies, ...refunds.discrepancies].sort(
        (left, right) =>
          left.paymentId < right.paymentId ? -1 : left.paymentId > right.paymentId ? 1 : 0,
      );
      return store.open({
        reportId,
        channel: source.channel,
        day,
        timeZone,
        from: new Date(period.fromMs).toISOString(),
        to: new Date(period.toMs).toISOString(),
        startedAt: new Date(startedAtMs).toISOString(),
        manual,
        statementRowCount: payments.statementRowCount + refundRows.length,
        ledgerPaymentCount: payments.ledgerPaymentCount,
        matchedCount: payments.matchedCount + refunds.matchedCount,
        discrepancies,
      });
    })());
  const statement = { payments: rowsByPayment(rows), refunds: refundRows };
  const leftOpen: ReconciliationItem[] = [];
  for (const item of report.items) {
    if (item.status !== 'open') continue;
    const repair =
      item.repair === null ? repairOf(source.channel, item.discrepancy, statement) : null;
    if (repair === null) {
      leftOpen.push(item);
      continue;
    }
    const now = new Date(deps.nowMs()).toISOString();
    const applied = await applyRepair(deps.runtime, repair, { reportId: report.reportId, now });
    const repaired = isRepaired(applied.state, repair);
    const attempt = {
      outcome: repairOutcomeOf(applied.state, repair),
      position: applied.position === null ? null : applied.position.toString(),
      attemptedAt: now,
    };
    await store.recordRepair(report.reportId, item.itemId, repaired ? 'repaired' : 'open', attempt);
    if (!repaired) leftOpen.push({ ...item, repair: attempt });
  }
  await store.complete(report.reportId, new Date(deps.nowMs()).toISOString());
  const completed = await store.get(report.reportId);
  return { report: completed ?? report, leftOpen };
};
