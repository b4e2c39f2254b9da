import type { PaymentRecord } from '../payment/payment.model';

/**
 * Pure comparison of a channel's statement with the ledger's payments of that channel. A
 * statement row says the channel moved (or did not move) money for one of our payments; the
 * ledger says what we recorded. Every difference becomes one discrepancy.
 */
export type StatementStatus = 'succeeded' | 'refunded' | 'closed' | 'failed';

export type StatementRow = {
  paymentId: string;
  channelTransactionId: string;
  status: StatementStatus;
  amountMinor: number;
  currency: string;
  occurredAt: string;
};

export type LedgerPayment = {
  paymentId: string;
  status: PaymentRecord['status'];
  amountMinor: number;
  currency: string;
  channelTransactionId: string | null;
  paidAt: string | null;
};

/** A refund the channel's statement reports, with its outcome. */
export type RefundStatementRow = {
  paymentId: string;
  refundId: string;
  /** The channel's id of a refund that succeeded; null for a failed one. */
  channelRefundId: string | null;
  status: 'succeeded' | 'failed';
  amountMinor: number;
  currency: string;
  occurredAt: string;
};

/** A refund as the ledger recorded it. */
export type LedgerRefund = {
  paymentId: string;
  refundId: string;
  status: 'requested' | 'succeeded' | 'failed';
  amountMinor: number;
};

export type Discrepancy =
  | {
      kind: 'channel_only';
      paymentId: string;
      channelTransactionId: string;
      channelStatus: StatementStatus;
      amountMinor: number;
      currency: string;
    }
  | {
      kind: 'ledger_only';
      paymentId: string;
      channelTransactionId: string | null;
      ledgerStatus: string;
      amountMinor: number;
      currency: string;
    }
  | {
      kind: 'amount_mismatch';
      paymentId: string;
      channelTransactionId: string;
      channelAmountMinor: number;
      channelCurrency: string;
      ledgerAmountMinor: number;
      ledgerCurrency: string;
    }
  | {
      kind: 'status_mismatch';
      paymentId: string;
      channelTransactionId: string;
      channelStatus: StatementStatus;
      ledgerStatus: string;
      note: string;
    }
  | {
      kind: 'refund_mismatch';
      paymentId: string;
      refundId: string;
      channelRefundId: string | null;
      channelStatus: RefundStatementRow['status'];
      /** `missing`: the ledger never requested this refund. */
      ledgerStatus: LedgerRefund['status'] | 'missing';
      amountMinor: number;
      currency: string;
    };

export type ReconciliationReport = {
  statementRowCount: number;
  ledgerPaymentCount: number;
  matchedCount: number;
  discrepancies: Discrepancy[];
};

/** Half-open period [fromMs, toMs) of paidAt; null bounds are open. */
export type ReconciliationPeriod = { fromMs: number | null; toMs: number | null };

const isPaidOnChannel = (status: StatementStatus): boolean =>
  status === 'succeeded' || status === 'refunded';

const inPeriod = (iso: string | null, period: ReconciliationPeriod): boolean => {
  if (iso === null) return false;
  const ms = Date.parse(iso);
  return (
    (period.fromMs === null || ms >= period.fromMs) && (period.toMs === null || ms < period.toMs)
  );
};

/** One row per payment: a paid row wins over a closed or failed one (a refund row keeps it paid). */
export const rowsByPayment = (rows: readonly StatementRow[]): Map<string, StatementRow> => {
  const byPayment = new Map<string, StatementRow>();
  for (const row of rows) {
    const known = byPayment.get(row.paymentId);
    if (known === undefined || (!isPaidOnChannel(known.status) && isPaidOnChannel(row.status)))
      byPayment.set(row.paymentId, row);
  }
  return byPayment;
};

const compareRow = (row: StatementRow, payment: LedgerPayment | undefined): Discrepancy | null => {
  const { paymentId, channelTransactionId } = row;
  const paid = isPaidOnChannel(row.status);
  if (payment === undefined) {
    if (!paid) return null; // The channel closed an order we never knew: no money, nothing to do.
    return {
      kind: 'channel_only',
      paymentId,
      channelTransactionId,
      channelStatus: row.status,
      amountMinor: row.amountMinor,
      currency: row.currency,
    };
  }
  const ledgerPaid = payment.status === 'succeeded';
  if (paid !== ledgerPaid) {
    const note = paid
      ? 'the channel took the money, the ledger did not credit it'
      : 'the ledger credited money the channel did not take';
    return {
      kind: 'status_mismatch',
      paymentId,
      channelTransactionId,
      channelStatus: row.status,
      ledgerStatus: payment.status,
      note,
    };
  }
  if (!paid) return null;
  if (row.amountMinor !== payment.amountMinor || row.currency !== payment.currency) {
    return {
      kind: 'amount_mismatch',
      paymentId,
      channelTransactionId,
      channelAmountMinor: row.amountMinor,
      channelCurrency: row.currency,
      ledgerAmountMinor: payment.amountMinor,
      ledgerCurrency: payment.currency,
    };
  }
  if (payment.channelTransactionId !== channelTransactionId) {
    const note = `the ledger recorded channel transaction ${payment.channelTransactionId ?? 'none'}`;
    return {
      kind: 'status_mismatch',
      paymentId,
      channelTransactionId,
      channelStatus: row.status,
      ledgerStatus: payment.status,
      note,
    };
  }
  return null;
};

export const reconcile = (
  rows: readonly StatementRow[],
  ledger: readonly LedgerPayment[],
  period: ReconciliationPeriod,
): ReconciliationReport => {
  const ledgerById = new Map(ledger.map((payment) => [payment.paymentId, payment]));
  const statement = rowsByPayment(rows);
  const discrepancies: Discrepancy[] = [];
  let matchedCount = 0;
  for (const row of statement.values()) {
    const found = compareRow(row, ledgerById.get(row.paymentId));
    if (found === null) matchedCount += 1;
    else discrepancies.push(found);
  }
  for (const payment of ledger) {
    if (
      payment.status !== 'succeeded' ||
      statement.has(payment.paymentId) ||
      !inPeriod(payment.paidAt, period)
    )
      continue;
    const { paymentId, channelTransactionId, amountMinor, currency } = payment;
    discrepancies.push({
      kind: 'ledger_only',
      paymentId,
      channelTransactionId,
      ledgerStatus: payment.status,
      amountMinor,
      currency,
    });
  }
  discrepancies.sort((left, right) =>
    left.paymentId < right.paymentId ? -1 : left.paymentId > right.paymentId ? 1 : 0,
  );
  return {
    statementRowCount: rows.length,
    ledgerPaymentCount: ledger.length,
    matchedCount,
    discrepancies,
  };
};

/**
 * The channel's refunds against the ledger's: a refund whose outcome the ledger lacks (still
 * `requested`: its notification was lost), has otherwise, or never requested, is a discrepancy.
 */
export const reconcileRefunds = (
  rows: readonly RefundStatementRow[],
  ledger: readonly LedgerRefund[],
): { matchedCount: number; discrepancies: Discrepancy[] } => {
  const key = (paymentId: string, refundId: string): string => `${paymentId}\n${refundId}`;
  const ledgerByKey = new Map(
    ledger.map((refund) => [key(refund.paymentId, refund.refundId), refund]),
  );
  const discrepancies: Discrepancy[] = [];
  let matchedCount = 0;
  for (const row of rows) {
    const recorded = ledgerByKey.get(key(row.paymentId, row.refundId));
    if (recorded?.status === row.status && recorded.amountMinor === row.amountMinor) {
      matchedCount += 1;
      continue;
    }
    const { paymentId, refundId, channelRefundId, amountMinor, currency } = row;
    discrepancies.push({
      kind: 'refund_mismatch',
      paymentId,
      refundId,
      channelRefundId,
      channelStatus: row.status,
      ledgerStatus: recorded?.status ?? 'missing',
      amountMinor,
      currency,
    });
  }
  return { matchedCount, discrepancies };
};
