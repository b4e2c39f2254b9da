import type { KnownTransfer } from './transfer.decider';

/** The JSON shape of a transfer in API responses. */
export const transferView = (state: KnownTransfer) => ({
  ...state.terms,
  status: state.status,
  requestedAt: state.requestedAt,
  expiresAt: state.expiresAt,
  postedAmountMinor: state.postedAmountMinor,
  rejection: state.rejection,
});
