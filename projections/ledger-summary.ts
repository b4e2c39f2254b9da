import {
  createBalanceAudit,
  defaultBalanceAuditOptions,
  type BalanceReport,
} from '../domain/audit/balance-audit';
import { createDailyVolume } from '../domain/audit/daily-volume';
import type { EventStore } from '../domain/ports/event-store.port';
import { forEachEvent } from './audit-toolkit';

/**
 * The auditor console's view of the ledger, folded from the log in one pass (the same fold as
 * `ledger audit balances`, so it never trusts a read model): Σ per currency over every account,
 * and the volume posted per UTC day and currency. Money is in decimal strings (sums of safe
 * integers can pass 2^53).
 */
export type LedgerSummary = {
  eventCount: number;
  balanced: boolean;
  openTransferCount: number;
  pendingHoldCount: number;
  currencies: {
    currency: string;
    accountCount: number;
    creditsPostedMinor: string;
    debitsPostedMinor: string;
    creditsPendingMinor: string;
    debitsPendingMinor: string;
    /** Σ credits − Σ debits, posted and pending: "0" in a balanced ledger. */
    netMinor: string;
  }[];
  fromDay: string;
  dailyVolume: { day: string; currency: string; transferCount: number; amountMinor: string }[];
};

const currencyOf = (totals: BalanceReport['currencies'][number]) => ({
  currency: totals.currency,
  accountCount: totals.accountCount,
  creditsPostedMinor: totals.creditsPostedMinor.toString(),
  debitsPostedMinor: totals.debitsPostedMinor.toString(),
  creditsPendingMinor: totals.creditsPendingMinor.toString(),
  debitsPendingMinor: totals.debitsPendingMinor.toString(),
  netMinor: (
    totals.creditsPostedMinor +
    totals.creditsPendingMinor -
    totals.debitsPostedMinor -
    totals.debitsPendingMinor
  ).toString(),
});

export const ledgerSummary = async (
  store: EventStore,
  options: { fromDay: string; nowMs: number },
): Promise<LedgerSummary> => {
  const balances = createBalanceAudit(defaultBalanceAuditOptions(options.nowMs));
  const volume = createDailyVolume();
  await forEachEvent(store, (event) => {
    balances.apply(event);
    volume.apply(event);
  });
  const report = balances.report();
  return {
    eventCount: report.eventCount,
    balanced: report.balanced,
    openTransferCount: report.openTransferCount,
    pendingHoldCount: report.pendingHoldCount,
    currencies: report.currencies.map(currencyOf),
    fromDay: options.fromDay,
    dailyVolume: volume.report(options.fromDay).map((day) => ({
      day: day.day,
      currency: day.currency,
      transferCount: day.transferCount,
      amountMinor: day.amountMinor.toString(),
    })),
  };
};
