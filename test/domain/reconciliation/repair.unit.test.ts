import {
  reconcileRefunds,
  type Discrepancy,
  type LedgerRefund,
  type RefundStatementRow,
  type StatementRow,
} from '../../../domain/reconciliation/reconciliation';
import { repairOf, type StatementIndex } from '../../../domain/reconciliation/repair';

const paidRow: StatementRow = {
  paymentId: 'p1',
  channelTransactionId: 'tx-1',
  status: 'succeeded',
  amountMinor: 1000,
  currency: 'CNY',
  occurredAt: '2026-03-01T10:00:00.000Z',
};
const refundRow: RefundStatementRow = {
  paymentId: 'p1',
  refundId: 'r1',
  channelRefundId: 'chr-1',
  status: 'succeeded',
  amountMinor: 400,
  currency: 'CNY',
  occurredAt: '2026-03-01T11:00:00.000Z',
};
const statement: StatementIndex = { payments: new Map([['p1', paidRow]]), refunds: [refundRow] };
const missedSuccess = (ledgerStatus: string): Discrepancy => ({
  kind: 'status_mismatch',
  paymentId: 'p1',
  channelTransactionId: 'tx-1',
  channelStatus: 'succeeded',
  ledgerStatus,
  note: 'the channel took the money, the ledger did not credit it',
});

describe('what the daily reconciliation repairs by itself', () => {
  it("records a missed success through the channel's row, dated by the channel", () => {
    expect(repairOf('sandbox', missedSuccess('pending'), statement)).toEqual({
      kind: 'payment',
      paymentId: 'p1',
      channel: 'sandbox',
      channelTransactionId: 'tx-1',
      amountMinor: 1000,
      currency: 'CNY',
      paidAt: '2026-03-01T10:00:00.000Z',
    });
  });

  it('leaves for a person what the ledger holds paid, or another transaction', () => {
    expect(repairOf('sandbox', missedSuccess('succeeded'), statement)).toBeNull();
    const other = { ...missedSuccess('pending'), channelTransactionId: 'tx-2' };
    expect(repairOf('sandbox', other, statement)).toBeNull();
    const amount: Discrepancy = {
      kind: 'amount_mismatch',
      paymentId: 'p1',
      channelTransactionId: 'tx-1',
      channelAmountMinor: 1001,
      channelCurrency: 'CNY',
      ledgerAmountMinor: 1000,
      ledgerCurrency: 'CNY',
    };
    expect(repairOf('sandbox', amount, statement)).toBeNull();
    const unknown: Discrepancy = {
      kind: 'channel_only',
      paymentId: 'p9',
      channelTransactionId: 'tx-9',
      channelStatus: 'succeeded',
      amountMinor: 5,
      currency: 'CNY',
    };
    expect(repairOf('sandbox', unknown, statement)).toBeNull();
  });

  it('finds a refund the ledger still holds requested, and repairs only that one', () => {
    const requested: LedgerRefund = {
      paymentId: 'p1',
      refundId: 'r1',
      status: 'requested',
      amountMinor: 400,
    };
    const [found] = reconcileRefunds([refundRow], [requested]).discrepancies;
    expect(found).toMatchObject({ kind: 'refund_mismatch', ledgerStatus: 'requested' });
    expect(found === undefined ? null : repairOf('sandbox', found, statement)).toMatchObject({
      kind: 'refund',
      refundId: 'r1',
      outcome: { status: 'succeeded', channelRefundId: 'chr-1' },
      settledAt: refundRow.occurredAt,
    });
    const done: LedgerRefund = { ...requested, status: 'succeeded' };
    expect(reconcileRefunds([refundRow], [done])).toEqual({ matchedCount: 1, discrepancies: [] });
    const [missing] = reconcileRefunds([refundRow], []).discrepancies;
    expect(missing).toMatchObject({ ledgerStatus: 'missing' });
    expect(missing === undefined ? 'absent' : repairOf('sandbox', missing, statement)).toBeNull();
    const [differs] = reconcileRefunds([refundRow], [{ ...done, amountMinor: 399 }]).discrepancies;
    expect(differs === undefined ? 'absent' : repairOf('sandbox', differs, statement)).toBeNull();
  });
});
