import type {
  ItemRepair,
  ItemResolution,
  NewReconciliationReport,
  ReconciliationItem,
  ReconciliationReportRecord,
  ReconciliationReportSummary,
  ReconciliationStore,
  ResolveOutcome,
} from '../../domain/ports/reconciliation-store.port';
import type { Discrepancy } from '../../domain/reconciliation/reconciliation';
import { ensureSchema, type SqliteDatabase } from '../sqlite/open-database';
import { sqliteGuarded } from '../sqlite/outage';

const SCHEMA_VERSION = 2;
const reportsTable = (name: string): string => `
CREATE TABLE IF NOT EXISTS ${name} (
  report_id TEXT PRIMARY KEY, channel TEXT NOT NULL, day TEXT NOT NULL, time_zone TEXT NOT NULL,
  period_from TEXT NOT NULL, period_to TEXT NOT NULL, status TEXT NOT NULL,
  started_at TEXT NOT NULL, finished_at TEXT, statement_row_count INTEGER NOT NULL,
  ledger_payment_count INTEGER NOT NULL, matched_count INTEGER NOT NULL,
  manual INTEGER NOT NULL DEFAULT 0);`;
/** One scheduled report per channel and day; manual ones beside it. */
const SCHEMA = `${reportsTable('reconciliation_reports')}
CREATE UNIQUE INDEX IF NOT EXISTS reconciliation_reports_scheduled_day
  ON reconciliation_reports (channel, day) WHERE manual = 0;
CREATE TABLE IF NOT EXISTS reconciliation_items (
  report_id TEXT NOT NULL REFERENCES reconciliation_reports (report_id), item_id TEXT NOT NULL,
  ordinal INTEGER NOT NULL, discrepancy TEXT NOT NULL, status TEXT NOT NULL, repair TEXT,
  resolution TEXT, PRIMARY KEY (report_id, item_id));
CREATE INDEX IF NOT EXISTS reconciliation_items_open ON reconciliation_items (status, report_id);
`;

/**
 * Version 1 had UNIQUE (channel, day) on the table, which SQLite cannot drop: the reports table is
 * rebuilt (its items put aside first, so that no foreign key is ever dangling), then SCHEMA
 * recreates the items table and the index.
 */
const MIGRATE_TO_2 = `${reportsTable('reconciliation_reports_v2')}
INSERT INTO reconciliation_reports_v2 SELECT *, 0 FROM reconciliation_reports;
CREATE TABLE reconciliation_items_v1 AS SELECT * FROM reconciliation_items;
DROP TABLE reconciliation_items;
DROP TABLE reconciliation_reports;
ALTER TABLE reconciliation_reports_v2 RENAME TO reconciliation_reports;`;
const MIGRATE_TO_2_ITEMS = `INSERT INTO reconciliation_items SELECT * FROM reconciliation_items_v1;
DROP TABLE reconciliation_items_v1;`;

type ReportRow = {
  report_id: string;
  channel: string;
  day: string;
  time_zone: string;
  period_from: string;
  period_to: string;
  status: ReconciliationReportSummary['status'];
  started_at: string;
  finished_at: string | null;
  statement_row_count: number;
  ledger_payment_count: number;
  matched_count: number;
  manual: number;
  item_count: number;
  open_item_count: number;
};
type ItemRow = {
  item_id: string;
  discrepancy: string;
  status: ReconciliationItem['status'];
  repair: string | null;
  resolution: string | null;
};

const REPORT_COLUMNS = `r.*,
  (SELECT COUNT(*) FROM reconciliation_items i WHERE i.report_id = r.report_id) AS item_count,
  (SELECT COUNT(*) FROM reconciliation_items i WHERE i.report_id = r.report_id AND i.status = 'open') AS open_item_count`;

const summaryOf = (row: ReportRow): ReconciliationReportSummary => ({
  reportId: row.report_id,
  channel: row.channel,
  day: row.day,
  timeZone: row.time_zone,
  from: row.period_from,
  to: row.period_to,
  manual: row.manual === 1,
  status: row.status,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  statementRowCount: row.statement_row_count,
  ledgerPaymentCount: row.ledger_payment_count,
  matchedCount: row.matched_count,
  itemCount: row.item_count,
  openItemCount: row.open_item_count,
});

// The adapter's own JSON, written by this file only.
const itemOf = (row: ItemRow): ReconciliationItem => ({
  itemId: row.item_id,
  discrepancy: JSON.parse(row.discrepancy) as Discrepancy,
  status: row.status,
  repair: row.repair === null ? null : (JSON.parse(row.repair) as ItemRepair),
  resolution: row.resolution === null ? null : (JSON.parse(row.resolution) as ItemResolution),
});

/** The reports in the service database (DATA_DIR/service.sqlite); every write one transaction. */
export const createSqliteReconciliationStore = (database: SqliteDatabase): ReconciliationStore => {
  ensureSchema(database, 'reconciliation_reports', SCHEMA_VERSION, (db, versionFound) => {
    if (versionFound === 1) db.exec(MIGRATE_TO_2);
    db.exec(SCHEMA);
    if (versionFound === 1) db.exec(MIGRATE_TO_2_ITEMS);
  });
  const selectReport = database.prepare<[string], ReportRow>(
    `SELECT ${REPORT_COLUMNS} FROM reconciliation_reports r WHERE r.report_id = ?`,
  );
  const selectItems = database.prepare<[string], ItemRow>(
    'SELECT * FROM reconciliation_items WHERE report_id = ? ORDER BY ordinal',
  );
  const insertReport = database.prepare(
    `INSERT INTO reconciliation_reports (report_id, channel, day, time_zone, period_from,
       period_to, status, started_at, finished_at, statement_row_count, ledger_payment_count,
       matched_count, manual)
     VALUES (?, ?, ?, ?, ?, ?, 'running', ?, NULL, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const insertItem = database.prepare(
    `INSERT INTO reconciliation_items (report_id, item_id, ordinal, discrepancy, status)
     VALUES (?, ?, ?, ?, 'open')`,
  );
  const updateRepair = database.prepare(
    `UPDATE reconciliation_items SET status = ?, repair = ?
     WHERE report_id = ? AND item_id = ? AND status = 'open'`,
  );
  const updateComplete = database.prepare(
    `UPDATE reconciliation_reports SET status = 'complete', finished_at = ?
     WHERE report_id = ? AND status = 'running'`,
  );
  const selectItemStatus = database.prepare<[string, string], { status: string }>(
    'SELECT status FROM reconciliation_items WHERE report_id = ? AND item_id = ?',
  );
  const updateResolve = database.prepare(
    `UPDATE reconciliation_items SET status = 'resolved', resolution = ?
     WHERE report_id = ? AND item_id = ? AND status = 'open'`,
  );
  const selectFirstDay = database.prepare<[string], { day: string | null }>(
    'SELECT MIN(day) AS day FROM reconciliation_reports WHERE channel = ? AND manual = 0',
  );
  const selectDoneDays = database.prepare<[string, string], { day: string }>(
    `SELECT day FROM reconciliation_reports
     WHERE channel = ? AND day >= ? AND status = 'complete' AND manual = 0`,
  );
  const selectOpenCounts = database.prepare<[], { channel: string; count: number }>(
    `SELECT r.channel AS channel, COUNT(*) AS count FROM reconciliation_items i
     JOIN reconciliation_reports r ON r.report_id = i.report_id
     WHERE i.status = 'open' GROUP BY r.channel ORDER BY r.channel`,
  );

  const read = (reportId: string): ReconciliationReportRecord | null => {
    const row = selectReport.get(reportId);
    if (row === undefined) return null;
    return { ...summaryOf(row), items: selectItems.all(reportId).map(itemOf) };
  };
  const openReport = database.transaction((report: NewReconciliationReport): string => {
    const { reportId } = report;
    const inserted = insertReport.run(
      reportId,
      report.channel,
      report.day,
      report.timeZone,
      report.from,
      report.to,
      report.startedAt,
      report.statementRowCount,
      report.ledgerPaymentCount,
      report.matchedCount,
      report.manual === true ? 1 : 0,
    );
    if (inserted.changes === 1)
      report.discrepancies.forEach((discrepancy, index) =>
        insertItem.run(reportId, String(index + 1), index, JSON.stringify(discrepancy)),
      );
    return reportId;
  });
  const resolveItem = database.transaction(
    (reportId: string, itemId: string, resolution: ItemResolution): ResolveOutcome => {
      if (selectReport.get(reportId) === undefined) return 'report_not_found';
      const item = selectItemStatus.get(reportId, itemId);
      if (item === undefined) return 'item_not_found';
      const changed = updateResolve.run(JSON.stringify(resolution), reportId, itemId).changes;
      return changed === 1 ? 'resolved' : 'item_not_open';
    },
  );

  return {
    open: async (report) =>
      sqliteGuarded('reconciliation open', () => {
        const record = read(openReport.immediate(report));
        if (record === null) throw new Error('reconciliation report vanished after insert');
        return record;
      }),
    recordRepair: async (reportId, itemId, status, repair) => {
      sqliteGuarded('reconciliation repair', () =>
        updateRepair.run(status, JSON.stringify(repair), reportId, itemId),
      );
    },
    complete: async (reportId, finishedAt) => {
      sqliteGuarded('reconciliation complete', () => updateComplete.run(finishedAt, reportId));
    },
    get: async (reportId) => sqliteGuarded('reconciliation get', () => read(reportId)),
    list: async ({ channel, pageNum, pageSize }) =>
      sqliteGuarded('reconciliation list', () => {
        const where = channel === null ? '' : 'WHERE r.channel = ?';
        const args = channel === null ? [] : [channel];
        const rows = database
          .prepare<unknown[], ReportRow>(
            `SELECT ${REPORT_COLUMNS} FROM reconciliation_reports r ${where}
             ORDER BY r.day DESC, r.channel, r.manual, r.started_at DESC LIMIT ? OFFSET ?`,
          )
          .all(...args, pageSize, (pageNum - 1) * pageSize);
        const total = database
          .prepare<unknown[], { count: number }>(
            `SELECT COUNT(*) AS count FROM reconciliation_reports r ${where}`,
          )
          .get(...args);
        return { reports: rows.map(summaryOf), totalCount: total?.count ?? 0 };
      }),
    resolve: async (reportId, itemId, resolution) =>
      sqliteGuarded('reconciliation resolve', () =>
        resolveItem.immediate(reportId, itemId, resolution),
      ),
    reconciledDays: async (channel, sinceDay) =>
      sqliteGuarded('reconciliation days', () => ({
        firstDay: selectFirstDay.get(channel)?.day ?? null,
        doneDays: new Set(selectDoneDays.all(channel, sinceDay).map((row) => row.day)),
      })),
    openItemCounts: async () =>
      sqliteGuarded('reconciliation counts', () => selectOpenCounts.all()),
  };
};
