import type {
  Discrepancy,
  RefundStatementRow,
  StatementRow,
} from '../reconciliation/reconciliation';

/**
 * The daily reconciliation's reports, kept for good: one per channel and local day, each
 * difference an item with a status. `open` waits for a person; `repaired` was put right through
 * the normal payment command; `resolved` a person closed with a note.
 */
export type ReconciliationItemStatus = 'open' | 'repaired' | 'resolved';

/** What the repair attempt did: the command's outcome and the position of its last event. */
export type ItemRepair = { outcome: string; position: string | null; attemptedAt: string };
export type ItemResolution = { note: string; resolvedBy: string; resolvedAt: string };

export type ReconciliationItem = {
  /** '1', '2', … in the report's order (by payment id); fixed when the report is opened. */
  itemId: string;
  discrepancy: Discrepancy;
  status: ReconciliationItemStatus;
  repair: ItemRepair | null;
  resolution: ItemResolution | null;
};

export type ReconciliationReportSummary = {
  reportId: string;
  channel: string;
  /** The local day ('YYYY-MM-DD') the statement covers. */
  day: string;
  timeZone: string;
  /** The statement's period, half-open [from, to). */
  from: string;
  to: string;
  /**
   * True for a run an operator asked for (POST /v1/reconciliations/runs): the day so far, its own
   * report (`<channel>-<day>-manual-<ms>`). It never counts as the day's scheduled run.
   */
  manual: boolean;
  /** `running` until every repair was attempted; a restart resumes a running report. */
  status: 'running' | 'complete';
  startedAt: string;
  finishedAt: string | null;
  statementRowCount: number;
  ledgerPaymentCount: number;
  matchedCount: number;
  itemCount: number;
  openItemCount: number;
};

export type ReconciliationReportRecord = ReconciliationReportSummary & {
  items: ReconciliationItem[];
};

/** What the runner opens: the summary's facts and the differences, all open. */
export type NewReconciliationReport = Omit<
  ReconciliationReportSummary,
  'status' | 'finishedAt' | 'itemCount' | 'openItemCount' | 'manual'
> & { discrepancies: readonly Discrepancy[]; manual?: boolean };

export type ResolveOutcome = 'resolved' | 'report_not_found' | 'item_not_found' | 'item_not_open';

export interface ReconciliationStore {
  /**
   * Keeps a new report, status running, its items open. When a scheduled report of that channel
   * and day (or a report of that id) exists already (a restart, another run) it is returned
   * unchanged: the first one wins. Manual reports of a day are as many as were asked for.
   */
  open(report: NewReconciliationReport): Promise<ReconciliationReportRecord>;
  /** Records a repair attempt on an item still open: `repaired`, or left `open` with the outcome. */
  recordRepair(
    reportId: string,
    itemId: string,
    status: 'open' | 'repaired',
    repair: ItemRepair,
  ): Promise<void>;
  /** Marks a running report complete (idempotent). */
  complete(reportId: string, finishedAt: string): Promise<void>;
  get(reportId: string): Promise<ReconciliationReportRecord | null>;
  /** Newest day first. */
  list(filter: {
    channel: string | null;
    pageNum: number;
    pageSize: number;
  }): Promise<{ reports: ReconciliationReportSummary[]; totalCount: number }>;
  /** An open item becomes resolved with the person's note; anything else is refused. */
  resolve(reportId: string, itemId: string, resolution: ItemResolution): Promise<ResolveOutcome>;
  /**
   * The first day ever reconciled on the channel, and the complete days since `sinceDay`, by
   * scheduled runs only (a manual run leaves its day due).
   */
  reconciledDays(
    channel: string,
    sinceDay: string,
  ): Promise<{ firstDay: string | null; doneDays: ReadonlySet<string> }>;
  /** Open items per channel, over every report. */
  openItemCounts(): Promise<{ channel: string; count: number }[]>;
}

/** A channel's statement of a period, fetched from the channel (or the sandbox's books). */
export interface StatementSource {
  readonly channel: string;
  /** Rows whose occurredAt falls in [fromMs, toMs); throws UnavailableError when unreachable. */
  statementRows(period: { fromMs: number; toMs: number }): Promise<StatementRow[]>;
  /** The refunds whose outcome the channel reached in [fromMs, toMs). */
  refundRows(period: { fromMs: number; toMs: number }): Promise<RefundStatementRow[]>;
}

/** Report id: the channel and the day, readable in URLs and logs ('sandbox-2026-03-01'). */
export const reportIdOf = (channel: string, day: string): string => `${channel}-${day}`;

/** A manual run's report id: 'sandbox-2026-03-01-manual-1772323200000' (the run's start, ms). */
export const manualReportIdOf = (channel: string, day: string, startedAtMs: number): string =>
  `${reportIdOf(channel, day)}-manual-${startedAtMs}`;
