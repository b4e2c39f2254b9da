import type { Discrepancy, ReconciliationReport } from './reconciliation';

/** The report as a plain-text table for terminals: one line per discrepancy, then the totals. */
const describe = (item: Discrepancy): [string, string] => {
  switch (item.kind) {
    case 'channel_only':
      return [
        item.channelTransactionId,
        `channel ${item.channelStatus} ${item.amountMinor} ${item.currency}; not in the ledger`,
      ];
    case 'ledger_only':
      return [
        item.channelTransactionId ?? '-',
        `ledger ${item.ledgerStatus} ${item.amountMinor} ${item.currency}; not in the statement`,
      ];
    case 'amount_mismatch':
      return [
        item.channelTransactionId,
        `channel ${item.channelAmountMinor} ${item.channelCurrency} vs ledger ${item.ledgerAmountMinor} ${item.ledgerCurrency}`,
      ];
    case 'refund_mismatch':
      return [
        item.channelRefundId ?? '-',
        `refund ${item.refundId} channel ${item.channelStatus} ${item.amountMinor} ${item.currency} vs ledger ${item.ledgerStatus}`,
      ];
    case 'status_mismatch':
      return [
        item.channelTransactionId,
        `channel ${item.channelStatus} vs ledger ${item.ledgerStatus}: ${item.note}`,
      ];
  }
};

export const formatReconciliationTable = (report: ReconciliationReport): string => {
  const rows = report.discrepancies.map((item) => [item.kind, item.paymentId, ...describe(item)]);
  const header = ['kind', 'paymentId', 'channelTransactionId', 'detail'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const body =
    rows.length === 0
      ? ['no discrepancies']
      : [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
  const totals = `statement rows ${report.statementRowCount}, ledger payments ${report.ledgerPaymentCount}, matched ${report.matchedCount}, discrepancies ${report.discrepancies.length}`;
  return `${[...body, totals].join('\n')}\n`;
};
