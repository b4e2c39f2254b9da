import { accountAggregate, type AccountEvent } from '../account/account.decider';
import { parseStored } from '../aggregate';
import type { RecordedEvent } from '../ports/event-store.port';
import { transferStream, type TransferEvent } from '../transfer/transfer.decider';

/**
 * The double-entry invariant, recomputed from the log alone: per currency, Σ credits − Σ debits
 * over all accounts is zero, posted and pending alike. While a transfer is between its legs the
 * sums are legitimately off, so open transfers are counted and the check only holds when none is.
 */
export type CurrencyTotals = {
  currency: string;
  accountCount: number;
  debitsPostedMinor: bigint;
  creditsPostedMinor: bigint;
  debitsPendingMinor: bigint;
  creditsPendingMinor: bigint;
};
export type BalanceReport = {
  currencies: CurrencyTotals[];
  openTransferCount: number;
  eventCount: number;
  balanced: boolean;
};

const TERMINAL_TRANSFER_EVENTS = new Set([
  'TransferPosted',
  'TransferRejected',
  'TransferVoided',
  'TransferPending',
]);

export const createBalanceAudit = () => {
  const accountCurrency = new Map<string, string>();
  const totals = new Map<string, CurrencyTotals>();
  const openTransfers = new Set<string>();
  let eventCount = 0;

  const totalsOf = (stream: string): CurrencyTotals | null => {
    const currency = accountCurrency.get(stream);
    return currency === undefined ? null : (totals.get(currency) ?? null);
  };

  const applyAccount = (stream: string, event: AccountEvent): void => {
    if (event.type === 'AccountOpened') {
      const currency = event.data.currency;
      accountCurrency.set(stream, currency);
      const current = totals.get(currency) ?? {
        currency,
        accountCount: 0,
        debitsPostedMinor: 0n,
        creditsPostedMinor: 0n,
        debitsPendingMinor: 0n,
        creditsPendingMinor: 0n,
      };
      totals.set(currency, { ...current, accountCount: current.accountCount + 1 });
      return;
    }
    const sums = totalsOf(stream);
    if (sums === null) return;
    switch (event.type) {
      case 'AccountDebited':
      case 'AccountCredited': {
        const side = event.type === 'AccountDebited' ? 'debits' : 'credits';
        sums[`${side}${event.data.pending ? 'Pending' : 'Posted'}Minor`] += BigInt(
          event.data.amountMinor,
        );
        return;
      }
      case 'PendingLegPosted':
      case 'PendingLegVoided': {
        const side = event.data.side === 'debit' ? 'debits' : 'credits';
        const released =
          event.type === 'PendingLegPosted'
            ? event.data.pendingAmountMinor
            : event.data.amountMinor;
        sums[`${side}PendingMinor`] -= BigInt(released);
        if (event.type === 'PendingLegPosted')
          sums[`${side}PostedMinor`] += BigInt(event.data.postedAmountMinor);
        return;
      }
      case 'AccountDebitReversed':
        sums.creditsPostedMinor += BigInt(event.data.amountMinor);
        return;
      case 'AccountClosed':
        return;
    }
  };

  const applyTransfer = (stream: string, event: TransferEvent): void => {
    if (
      event.type === 'TransferRequested' ||
      event.type === 'TransferPostRequested' ||
      event.type === 'TransferVoidRequested'
    ) {
      openTransfers.add(stream);
    } else if (TERMINAL_TRANSFER_EVENTS.has(event.type)) {
      openTransfers.delete(stream);
    }
  };

  return {
    apply(event: RecordedEvent): void {
      eventCount += 1;
      if (event.stream.startsWith('account-'))
        applyAccount(event.stream, parseStored(accountAggregate, event));
      else if (event.stream.startsWith('transfer-'))
        applyTransfer(event.stream, parseStored(transferStream, event));
    },
    report(): BalanceReport {
      const currencies = [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency));
      const balanced = currencies.every(
        (sums) =>
          sums.creditsPostedMinor === sums.debitsPostedMinor &&
          sums.creditsPendingMinor === sums.debitsPendingMinor,
      );
      return { currencies, openTransferCount: openTransfers.size, eventCount, balanced };
    },
  };
};
