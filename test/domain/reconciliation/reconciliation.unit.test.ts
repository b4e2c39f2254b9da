import {
  reconcile,
  type LedgerPayment,
  type ReconciliationPeriod,
  type StatementRow,
} from '../../../domain/reconciliation/reconciliation';
import { formatReconciliationTable } from '../../../domain/reconciliation/reconciliation-table';

const id = (n: number): string => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const row = (n: number, overrides: Partial<StatementRow> = {}): StatementRow => ({
  paymentId: id(n),
  channelTransactionId: `tx-${n}`,
  status: 'succeeded',
  amountMinor: 100,
  currency: 'EUR',
  occurredAt: '2025-03-01T10:00:00.000Z',
  ...overrides,
});
const paid = (n: number, overrides: Partial<LedgerPayment> = {}): LedgerPayment => ({
  paymentId: id(n),
  status: 'succeeded',
  amountMinor: 100,
  currency: 'EUR',
  channelTransactionId: `tx-${n}`,
  paidAt: '2025-03-01T10:00:00.000Z',
  ...overrides,
});
const open: ReconciliationPeriod = { fromMs: null, toMs: null };
const kinds = (rows: StatementRow[], ledger: LedgerPayment[], period = open) =>
  reconcile(rows, ledger, period).discrepancies.map((item) => [item.kind, item.paymentId]);

describe('statement reconciliation', () => {
  it('matches equal rows and reports nothing', () => {
    expect(reconcile([row(1), row(2)], [paid(1), paid(2)], open)).toEqual({
      statementRowCount: 2,
      ledgerPaymentCount: 2,
      matchedCount: 2,
      discrepancies: [],
    });
  });

  it('reports a channel-only payment and a ledger-only payment', () => {
    expect(kinds([row(1), row(2)], [paid(1), paid(3)])).toEqual([
      ['channel_only', id(2)],
      ['ledger_only', id(3)],
    ]);
  });

  it('reports an amount one minor unit off and a wrong currency', () => {
    expect(
      kinds([row(1, { amountMinor: 99 }), row(2, { currency: 'USD' })], [paid(1), paid(2)]),
    ).toEqual([
      ['amount_mismatch', id(1)],
      ['amount_mismatch', id(2)],
    ]);
  });

  it('reports status mismatches both ways and another transaction id', () => {
    const ledger = [
      paid(1, { status: 'pending', channelTransactionId: null, paidAt: null }),
      paid(2),
      paid(3),
    ];
    expect(
      kinds(
        [row(1), row(2, { status: 'closed' }), row(3, { channelTransactionId: 'tx-other' })],
        ledger,
      ),
    ).toEqual([
      ['status_mismatch', id(1)],
      ['status_mismatch', id(2)],
      ['status_mismatch', id(3)],
    ]);
  });

  it('treats a refund row as paid and ignores closed orders the ledger never had', () => {
    expect(
      kinds([row(1, { status: 'refunded' }), row(1), row(9, { status: 'closed' })], [paid(1)]),
    ).toEqual([]);
  });

  it('looks for ledger-only payments only inside the period', () => {
    const period = {
      fromMs: Date.parse('2025-03-02T00:00:00Z'),
      toMs: Date.parse('2025-03-03T00:00:00Z'),
    };
    expect(kinds([], [paid(1), paid(2, { paidAt: '2025-03-02T12:00:00Z' })], period)).toEqual([
      ['ledger_only', id(2)],
    ]);
  });

  it('prints a readable table with the totals', () => {
    const table = formatReconciliationTable(
      reconcile([row(1, { amountMinor: 99 })], [paid(1)], open),
    );
    expect(table).toContain('amount_mismatch');
    expect(table).toContain('channel 99 EUR vs ledger 100 EUR');
    expect(table).toContain('discrepancies 1');
    expect(formatReconciliationTable(reconcile([], [], open))).toContain('no discrepancies');
  });
});
