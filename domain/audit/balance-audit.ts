import { accountAggregate, type AccountEvent } from '../account/account.decider';
import { parseStored } from '../aggregate';
import type { RecordedEvent } from '../ports/event-store.port';
import {
  transferStream,
  type TransferEvent,
  type TransferTerms,
} from '../transfer/transfer.decider';

/**
 * The double-entry invariant, recomputed from the log alone: per currency, Σ credits − Σ debits
 * over all accounts is zero, posted and pending alike. While a transfer is between its legs the
 * sums are legitimately off, so open transfers are counted and the check only holds when none is.
 *
 * Pending holds (two-phase transfers neither posted nor voided) keep balanced books but hold
 * money: those pending for longer than `pendingOlderThanMs` at `nowMs` are listed, since a hold
 * that old is usually a process that stopped halfway (a refund that never settled).
 */
export type CurrencyTotals = {
  currency: string;
  accountCount: number;
  debitsPostedMinor: bigint;
  creditsPostedMinor: bigint;
  debitsPendingMinor: bigint;
  creditsPendingMinor: bigint;
};
export type PendingHold = {
  transferId: string;
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: number;
  currency: string;
  reference: string;
  pendingSince: string;
  expiresAt: string | null;
  ageMs: number;
};
export type BalanceReport = {
  currencies: CurrencyTotals[];
  openTransferCount: number;
  eventCount: number;
  balanced: boolean;
  /** Every pending hold, old or not. */
  pendingHoldCount: number;
  pendingOlderThanMs: number;
  /** How many holds are pending for longer than pendingOlderThanMs; the oldest are listed. */
  stalePendingHoldCount: number;
  stalePendingHolds: PendingHold[];
};

export type BalanceAuditOptions = {
  pendingOlderThanMs: number;
  nowMs: number;
  /** At most this many stale holds are listed (the oldest first); all are counted. */
  staleHoldListedCountMax: number;
};

/** One hour: a refund or a purchase holds money for seconds, a hold this old is stuck. */
export const DEFAULT_PENDING_OLDER_THAN_MS = 3600 * 1000;
const STALE_HOLD_LISTED_COUNT_MAX = 1000;

export const defaultBalanceAuditOptions = (nowMs: number): BalanceAuditOptions => ({
  pendingOlderThanMs: DEFAULT_PENDING_OLDER_THAN_MS,
  nowMs,
  staleHoldListedCountMax: STALE_HOLD_LISTED_COUNT_MAX,
});

type HeldTerms = Omit<PendingHold, 'pendingSince' | 'expiresAt' | 'ageMs'>;

const heldTerms = (terms: TransferTerms): HeldTerms => ({
  transferId: terms.transferId,
  debitAccountId: terms.debitAccountId,
  creditAccountId: terms.creditAccountId,
  amountMinor: terms.amountMinor,
  currency: terms.currency,
  reference: terms.reference,
});

const TERMINAL_TRANSFER_EVENTS = new Set([
  'TransferPosted',
  'TransferRejected',
  'TransferVoided',
  'TransferPending',
]);

export const createBalanceAudit = (options: BalanceAuditOptions) => {
  const accountCurrency = new Map<string, string>();
  const totals = new Map<string, CurrencyTotals>();
  const openTransfers = new Set<string>();
  /** Terms of the legacy process's intents, until they become pending (or not). */
  const requestedTerms = new Map<string, HeldTerms>();
  const pendingHolds = new Map<string, Omit<PendingHold, 'ageMs'>>();
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

  const trackHold = (stream: string, event: TransferEvent): void => {
    switch (event.type) {
      case 'TransferCreated': {
        if (event.data.status !== 'pending') return;
        const { createdAt, expiresAt } = event.data;
        pendingHolds.set(stream, { ...heldTerms(event.data), pendingSince: createdAt, expiresAt });
        return;
      }
      case 'TransferRequested':
        requestedTerms.set(stream, heldTerms(event.data));
        return;
      case 'TransferPending': {
        const terms = requestedTerms.get(stream);
        requestedTerms.delete(stream);
        if (terms === undefined) return;
        const { pendingAt, expiresAt } = event.data;
        pendingHolds.set(stream, { ...terms, pendingSince: pendingAt, expiresAt });
        return;
      }
      case 'TransferPosted':
      case 'TransferVoided':
      case 'TransferRejected':
      case 'TransferRefused':
        requestedTerms.delete(stream);
        pendingHolds.delete(stream);
        return;
      case 'TransferPostRequested':
      case 'TransferVoidRequested':
        return;
    }
  };

  const staleHolds = (): PendingHold[] =>
    [...pendingHolds.values()]
      .map((hold) => ({ ...hold, ageMs: options.nowMs - Date.parse(hold.pendingSince) }))
      .filter((hold) => hold.ageMs > options.pendingOlderThanMs)
      .sort((a, b) => b.ageMs - a.ageMs);

  const applyTransfer = (stream: string, event: TransferEvent): void => {
    trackHold(stream, event);
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
      const stale = staleHolds();
      return {
        currencies,
        openTransferCount: openTransfers.size,
        eventCount,
        balanced,
        pendingHoldCount: pendingHolds.size,
        pendingOlderThanMs: options.pendingOlderThanMs,
        stalePendingHoldCount: stale.length,
        stalePendingHolds: stale.slice(0, options.staleHoldListedCountMax),
      };
    },
  };
};
