import { createSqliteReconciliationStore } from '../../adapters/reconciliation/sqlite.reconciliation-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { reconciliationStoreContract } from './reconciliation-store.contract';

reconciliationStoreContract('sqlite', () =>
  createSqliteReconciliationStore(openSqliteDatabase(':memory:')),
);

describe('sqlite reconciliation store, schema 1 → 2', () => {
  it('keeps the reports and items of version 1 and lets manual reports sit beside them', async () => {
    const database = openSqliteDatabase(':memory:');
    database.exec(`
      CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
      INSERT INTO schema_versions VALUES ('reconciliation_reports', 1);
      CREATE TABLE reconciliation_reports (
        report_id TEXT PRIMARY KEY, channel TEXT NOT NULL, day TEXT NOT NULL,
        time_zone TEXT NOT NULL, period_from TEXT NOT NULL, period_to TEXT NOT NULL,
        status TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
        statement_row_count INTEGER NOT NULL, ledger_payment_count INTEGER NOT NULL,
        matched_count INTEGER NOT NULL, UNIQUE (channel, day));
      CREATE TABLE reconciliation_items (
        report_id TEXT NOT NULL REFERENCES reconciliation_reports (report_id),
        item_id TEXT NOT NULL, ordinal INTEGER NOT NULL, discrepancy TEXT NOT NULL,
        status TEXT NOT NULL, repair TEXT, resolution TEXT, PRIMARY KEY (report_id, item_id));
      INSERT INTO reconciliation_reports VALUES ('sandbox-2026-03-01', 'sandbox', '2026-03-01',
        'UTC', '2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z', 'complete',
        '2026-03-02T02:00:00.000Z', '2026-03-02T02:00:01.000Z', 1, 1, 0);
      INSERT INTO reconciliation_items VALUES ('sandbox-2026-03-01', '1', 0,
        '{"kind":"ledger_only","paymentId":"p-1"}', 'open', NULL, NULL);
    `);
    const store = createSqliteReconciliationStore(database);
    const old = await store.get('sandbox-2026-03-01');
    expect(old).toMatchObject({ manual: false, status: 'complete', itemCount: 1 });
    expect(old?.items[0]?.discrepancy).toEqual({ kind: 'ledger_only', paymentId: 'p-1' });
    const manual = await store.open({
      reportId: 'sandbox-2026-03-01-manual-1',
      channel: 'sandbox',
      day: '2026-03-01',
      timeZone: 'UTC',
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-01T12:00:00.000Z',
      startedAt: '2026-03-01T12:00:00.000Z',
      statementRowCount: 0,
      ledgerPaymentCount: 0,
      matchedCount: 0,
      discrepancies: [],
      manual: true,
    });
    expect(manual).toMatchObject({ reportId: 'sandbox-2026-03-01-manual-1', manual: true });
    expect(await store.reconciledDays('sandbox', '2026-02-01')).toEqual({
      firstDay: '2026-03-01',
      doneDays: new Set(['2026-03-01']),
    });
    expect(database.pragma('foreign_key_check')).toEqual([]);
  });
});
