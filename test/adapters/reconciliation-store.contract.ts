import type {
  NewReconciliationReport,
  ReconciliationStore,
} from '../../domain/ports/reconciliation-store.port';
import type { Discrepancy } from '../../domain/reconciliation/reconciliation';

const mismatch: Discrepancy = {
  kind: 'amount_mismatch',
  paymentId: 'payment-a',
  channelTransactionId: 'tx-a',
  channelAmountMinor: 1001,
  channelCurrency: 'CNY',
  ledgerAmountMinor: 1000,
  ledgerCurrency: 'CNY',
};
const missed: Discrepancy = {
  kind: 'status_mismatch',
  paymentId: 'payment-b',
  channelTransactionId: 'tx-b',
  channelStatus: 'succeeded',
  ledgerStatus: 'pending',
  note: 'the channel took the money, the ledger did not credit it',
};

const newReport = (channel: string, day: string, discrepancies: Discrepancy[]) =>
  ({
    reportId: `${channel}-${day}`,
    channel,
    day,
    timeZone: 'UTC',
    from: `${day}T00:00:00.000Z`,
    to: `${day}T23:59:59.999Z`,
    startedAt: '2026-03-02T02:00:00.000Z',
    statementRowCount: 3,
    ledgerPaymentCount: 3,
    matchedCount: 1,
    discrepancies,
  }) satisfies NewReconciliationReport;

const resolution = { note: 'refunded by hand', resolvedBy: 'admin-1', resolvedAt: 'now' };
const repair = { outcome: 'succeeded', position: '42', attemptedAt: '2026-03-02T02:00:01.000Z' };

/** One suite for every ReconciliationStore adapter. */
export const reconciliationStoreContract = (
  adapterName: string,
  open: () => ReconciliationStore,
): void =>
  describe(`ReconciliationStore contract: ${adapterName}`, () => {
    it('keeps a report with its items open, and the first report of a day wins', async () => {
      const store = open();
      const first = await store.open(newReport('sandbox', '2026-03-01', [mismatch, missed]));
      expect(first.status).toBe('running');
      expect(first.items.map((item) => [item.itemId, item.status])).toEqual([
        ['1', 'open'],
        ['2', 'open'],
      ]);
      expect(first.items[0]?.discrepancy).toEqual(mismatch);
      const again = await store.open(newReport('sandbox', '2026-03-01', []));
      expect(again).toEqual(first);
      expect(await store.get('sandbox-2026-03-01')).toEqual(first);
      expect(await store.get('sandbox-2026-03-02')).toBeNull();
    });

    it('records a repair on an open item only, and completes once', async () => {
      const store = open();
      await store.open(newReport('sandbox', '2026-03-01', [mismatch, missed]));
      await store.recordRepair('sandbox-2026-03-01', '2', 'repaired', repair);
      await store.recordRepair('sandbox-2026-03-01', '2', 'open', { ...repair, outcome: 'x' });
      await store.complete('sandbox-2026-03-01', '2026-03-02T02:00:02.000Z');
      await store.complete('sandbox-2026-03-01', '2026-03-09T00:00:00.000Z');
      const report = await store.get('sandbox-2026-03-01');
      expect(report?.items[1]).toMatchObject({ status: 'repaired', repair });
      expect(report).toMatchObject({
        status: 'complete',
        finishedAt: '2026-03-02T02:00:02.000Z',
        itemCount: 2,
        openItemCount: 1,
      });
    });

    it('resolves an open item once, and names what is missing otherwise', async () => {
      const store = open();
      await store.open(newReport('sandbox', '2026-03-01', [mismatch, missed]));
      await store.recordRepair('sandbox-2026-03-01', '2', 'repaired', repair);
      expect(await store.resolve('sandbox-2026-03-01', '1', resolution)).toBe('resolved');
      expect(await store.resolve('sandbox-2026-03-01', '1', resolution)).toBe('item_not_open');
      expect(await store.resolve('sandbox-2026-03-01', '2', resolution)).toBe('item_not_open');
      expect(await store.resolve('sandbox-2026-03-01', '3', resolution)).toBe('item_not_found');
      expect(await store.resolve('sandbox-2026-01-01', '1', resolution)).toBe('report_not_found');
      const report = await store.get('sandbox-2026-03-01');
      expect(report?.items[0]).toMatchObject({ status: 'resolved', resolution });
      expect(report?.openItemCount).toBe(0);
    });

    it('lists newest day first by channel, pages, and counts open items per channel', async () => {
      const store = open();
      await store.open(newReport('sandbox', '2026-03-01', [mismatch]));
      await store.open(newReport('sandbox', '2026-03-02', [mismatch, missed]));
      await store.open(newReport('stripe', '2026-03-01', []));
      const page = await store.list({ channel: 'sandbox', pageNum: 1, pageSize: 1 });
      expect(page.totalCount).toBe(2);
      expect(page.reports.map((report) => report.reportId)).toEqual(['sandbox-2026-03-02']);
      const all = await store.list({ channel: null, pageNum: 1, pageSize: 10 });
      expect(all.totalCount).toBe(3);
      expect(await store.openItemCounts()).toEqual([{ channel: 'sandbox', count: 3 }]);
    });

    it('tells the first day reconciled and the complete days since a day', async () => {
      const store = open();
      expect(await store.reconciledDays('sandbox', '2026-01-01')).toEqual({
        firstDay: null,
        doneDays: new Set(),
      });
      await store.open(newReport('sandbox', '2026-02-27', []));
      await store.complete('sandbox-2026-02-27', 'now');
      await store.open(newReport('sandbox', '2026-03-01', []));
      await store.complete('sandbox-2026-03-01', 'now');
      await store.open(newReport('sandbox', '2026-03-02', []));
      const days = await store.reconciledDays('sandbox', '2026-02-28');
      expect(days.firstDay).toBe('2026-02-27');
      expect([...days.doneDays]).toEqual(['2026-03-01']);
    });
  });
