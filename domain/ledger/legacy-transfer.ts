import {
  decide as decideAccount,
  evolve as evolveAccount,
  type AccountCommand,
  type AccountEvent,
  type AccountState,
} from '../account/account.decider';
import {
  expiryOf,
  type KnownTransfer,
  type LegSideName,
  type TransferEvent,
} from '../transfer/transfer.decider';

/**
 * Logs written before the ledger can hold transfers that the old four-step process left
 * half-done (a crash between its steps). They were never acknowledged; the first start of the
 * ledger finishes each one once, by that process's own rules, as one atomic decision: the legs
 * still missing, a compensation where the credit side refuses, and the outcome.
 */
export type LegacyLegsSeen = {
  /** The transfer's single-phase or pending debit leg is in the debit account's stream. */
  debit: boolean;
  credit: boolean;
  /** The debit leg was compensated (reversed, or its pending leg voided) before the outcome. */
  debitCompensated: boolean;
};

type LegacyChange =
  | { category: 'account'; id: string; event: AccountEvent }
  | { category: 'transfer'; id: string; event: TransferEvent };

type Accounts = { account(accountId: string): AccountState };

/** The events that bring a half-done legacy transfer to its outcome; none if it has one. */
export const finishLegacyTransfer = (
  transfer: KnownTransfer,
  seen: LegacyLegsSeen,
  accounts: Accounts,
  now: string,
): LegacyChange[] => {
  switch (transfer.status) {
    case 'requested':
      return finishRequested(transfer, seen, accounts, now);
    case 'post_requested':
    case 'void_requested':
      return finishResolution(transfer, accounts, now);
    default:
      return [];
  }
};

const transferChange = (transfer: KnownTransfer, event: TransferEvent): LegacyChange => ({
  category: 'transfer',
  id: transfer.terms.transferId,
  event,
});

const finishRequested = (
  transfer: KnownTransfer,
  seen: LegacyLegsSeen,
  accounts: Accounts,
  now: string,
): LegacyChange[] => {
  const { transferId, debitAccountId, creditAccountId, amountMinor, currency, mode } =
    transfer.terms;
  const pending = mode === 'two_phase';
  const rejected = (reason: string, side: LegSideName): LegacyChange =>
    transferChange(transfer, { type: 'TransferRejected', data: { reason, side, rejectedAt: now } });
  if (seen.debitCompensated) return [rejected('credit_leg_refused', 'credit')];
  const leg = (side: LegSideName): AccountCommand => ({
    type: 'ApplyLeg',
    data: { transferId, side, amountMinor, currency, pending },
  });
  const changes: LegacyChange[] = [];
  if (!seen.debit) {
    const debit = apply(accounts, debitAccountId, leg('debit'));
    if (!debit.ok) return [rejected(debit.rejection, 'debit')];
    changes.push(...debit.changes);
  }
  if (!seen.credit) {
    const credit = apply(accounts, creditAccountId, leg('credit'));
    if (!credit.ok) {
      const compensation: AccountCommand = pending
        ? { type: 'VoidPendingLeg', data: { transferId, side: 'debit', reason: credit.rejection } }
        : { type: 'ReverseDebit', data: { transferId, amountMinor, reason: credit.rejection } };
      // The debit leg was just decided here or is in the log: its compensation is due.
      const debitAccount = seen.debit ? accounts : withChanges(accounts, changes);
      const reversed = apply(debitAccount, debitAccountId, compensation);
      return [
        ...changes,
        ...(reversed.ok ? reversed.changes : []),
        rejected(credit.rejection, 'credit'),
      ];
    }
    changes.push(...credit.changes);
  }
  const outcome: TransferEvent = pending
    ? {
        type: 'TransferPending',
        data: { expiresAt: expiryOf(transfer.terms, transfer.requestedAt), pendingAt: now },
      }
    : { type: 'TransferPosted', data: { amountMinor, postedAt: now } };
  return [...changes, transferChange(transfer, outcome)];
};

const finishResolution = (
  transfer: KnownTransfer,
  accounts: Accounts,
  now: string,
): LegacyChange[] => {
  const { transferId, debitAccountId, creditAccountId } = transfer.terms;
  const resolution = transfer.resolution;
  if (resolution === null) return [];
  const changes: LegacyChange[] = [];
  for (const [side, accountId] of [
    ['debit', debitAccountId],
    ['credit', creditAccountId],
  ] as const) {
    const command: AccountCommand =
      resolution.kind === 'post'
        ? {
            type: 'PostPendingLeg',
            data: { transferId, side, amountMinor: resolution.amountMinor },
          }
        : { type: 'VoidPendingLeg', data: { transferId, side, reason: resolution.reason } };
    // A leg already resolved is no longer pending: only the missing ones are applied.
    const resolved = apply(accounts, accountId, command);
    if (resolved.ok) changes.push(...resolved.changes);
  }
  const outcome: TransferEvent =
    resolution.kind === 'post'
      ? { type: 'TransferPosted', data: { amountMinor: resolution.amountMinor, postedAt: now } }
      : { type: 'TransferVoided', data: { reason: resolution.reason, voidedAt: now } };
  return [...changes, transferChange(transfer, outcome)];
};

const apply = (
  accounts: Accounts,
  accountId: string,
  command: AccountCommand,
): { ok: true; changes: LegacyChange[] } | { ok: false; rejection: string } => {
  const decision = decideAccount(command, accounts.account(accountId));
  if (!decision.ok) return { ok: false, rejection: decision.rejection };
  const changes = decision.events.map((event): LegacyChange => ({
    category: 'account',
    id: accountId,
    event,
  }));
  return { ok: true, changes };
};

/** The accounts with `changes` applied on top. */
const withChanges = (accounts: Accounts, changes: readonly LegacyChange[]): Accounts => ({
  account: (accountId) =>
    changes.reduce(
      (state, change) =>
        change.category === 'account' && change.id === accountId
          ? evolveAccount(state, change.event)
          : state,
      accounts.account(accountId),
    ),
});
