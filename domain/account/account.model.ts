import type { Currency } from '../money';
import type { SealedHolder } from '../personal-data/holder';

/** An account's state and the value sets of its fields, shared by the decider and its snapshot codec. */
export const accountConstraints = [
  'none',
  'debits_must_not_exceed_credits',
  'credits_must_not_exceed_debits',
] as const;
export type AccountConstraint = (typeof accountConstraints)[number];

export const legSides = ['debit', 'credit'] as const;
export type LegSide = (typeof legSides)[number];

export type AccountCounters = {
  debitsPostedMinor: number;
  creditsPostedMinor: number;
  debitsPendingMinor: number;
  creditsPendingMinor: number;
};
export type PendingLeg = { side: LegSide; amountMinor: number };
/** What an account is, fixed when it opens: the data of AccountOpened and part of its state. */
export type AccountProfile = {
  accountId: string;
  ownerClientId: string;
  currency: Currency;
  constraint: AccountConstraint;
  metadata: Record<string, string>;
  openedAt: string;
  /** The holder's personal data, sealed under its subject's key; absent: none given. */
  holder?: SealedHolder;
};
export type AccountState =
  | { status: 'unopened' }
  | ({
      status: 'open' | 'closed';
      pendingLegs: ReadonlyMap<string, PendingLeg>;
    } & AccountProfile &
      AccountCounters);

export type AccountEvent =
  | {
      type: 'AccountOpened';
      data: AccountProfile;
    }
  | { type: 'AccountDebited'; data: { transferId: string; amountMinor: number; pending: boolean } }
  | { type: 'AccountCredited'; data: { transferId: string; amountMinor: number; pending: boolean } }
  | {
      type: 'PendingLegPosted';
      data: {
        transferId: string;
        side: LegSide;
        pendingAmountMinor: number;
        postedAmountMinor: number;
      };
    }
  | {
      type: 'PendingLegVoided';
      data: { transferId: string; side: LegSide; amountMinor: number; reason: string };
    }
  | {
      type: 'AccountDebitReversed';
      data: { transferId: string; amountMinor: number; reason: string };
    }
  | { type: 'AccountClosed'; data: { closedAt: string } };
