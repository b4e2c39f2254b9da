import type { AccountState } from './account.decider';

/** The JSON shape of an account in API responses. Balances are credit-normal. */
export const accountView = (state: Exclude<AccountState, { status: 'unopened' }>) => ({
  accountId: state.accountId,
  ownerClientId: state.ownerClientId,
  currency: state.currency,
  constraint: state.constraint,
  metadata: state.metadata,
  status: state.status,
  debitsPostedMinor: state.debitsPostedMinor,
  creditsPostedMinor: state.creditsPostedMinor,
  debitsPendingMinor: state.debitsPendingMinor,
  creditsPendingMinor: state.creditsPendingMinor,
  balanceMinor: state.creditsPostedMinor - state.debitsPostedMinor,
  availableMinor: state.creditsPostedMinor - state.debitsPostedMinor - state.debitsPendingMinor,
  pendingTransferCount: state.pendingLegs.size,
  openedAt: state.openedAt,
});
