import type { AccountRejection } from '../domain/account/account.decider';
import type { PaymentRejection } from '../domain/payment/payment.decider';
import type { RefusedUsage, TrafficRejection } from '../domain/traffic/traffic.decider';
import type { TransferRejection } from '../domain/transfer/transfer.decider';
import type { ledgerRejections } from '../domain/ledger/ledger.decider';

/**
 * Domain rejections as HTTP answers. A Record over each aggregate's rejection union, so that a new
 * rejection without a chosen status and code fails to compile. 404: the thing does not exist;
 * 409: it exists in a state that forbids the command; 422: the command breaks a business rule.
 */
type Spec = { readonly status: 401 | 404 | 409 | 422; readonly code: number; readonly msg: string };
/** A refused usage record's reason is listed per user in a report's answer, with these codes. */
type DomainRejection =
  | AccountRejection
  | TransferRejection
  | (typeof ledgerRejections)[number]
  | PaymentRejection
  | TrafficRejection
  | RefusedUsage['reason'];

export const domainErrorCodes = {
  account_already_exists: {
    status: 409,
    code: 40910,
    msg: 'an account with this accountId exists with other terms',
  },
  account_not_found: { status: 404, code: 40410, msg: 'no such account' },
  account_closed: { status: 409, code: 40911, msg: 'the account is closed' },
  currency_mismatch: { status: 422, code: 42210, msg: "the currency differs from the account's" },
  insufficient_funds: { status: 422, code: 42211, msg: 'insufficient funds' },
  credits_exceed_debits: {
    status: 422,
    code: 42212,
    msg: "the account's credits may not exceed its debits",
  },
  balance_overflow: {
    status: 422,
    code: 42213,
    msg: 'the balance would leave the safe-integer range',
  },
  pending_leg_not_found: {
    status: 409,
    code: 40912,
    msg: 'the account holds no such pending transfer',
  },
  amount_exceeds_pending: {
    status: 422,
    code: 42214,
    msg: 'the amount exceeds the pending amount',
  },
  account_balance_not_zero: {
    status: 409,
    code: 40913,
    msg: 'an account closes only at a zero balance',
  },
  account_has_pending_transfers: {
    status: 409,
    code: 40914,
    msg: 'the account has pending transfers',
  },
  transfer_id_conflict: {
    status: 409,
    code: 40915,
    msg: 'this transferId exists with other terms',
  },
  transfer_not_found: { status: 404, code: 40411, msg: 'no such transfer' },
  same_account: { status: 422, code: 42215, msg: 'debit and credit account must differ' },
  timeout_requires_two_phase: {
    status: 422,
    code: 42216,
    msg: 'only two-phase transfers take a timeout',
  },
  transfer_not_pending: { status: 409, code: 40916, msg: 'the transfer is not pending' },
  transfer_already_posted: { status: 409, code: 40917, msg: 'the transfer was already posted' },
  transfer_already_voided: { status: 409, code: 40918, msg: 'the transfer was already voided' },
  transfer_not_expired_yet: {
    status: 422,
    code: 42217,
    msg: 'the pending transfer has not timed out yet',
  },
  linked_transfer_failed: {
    status: 422,
    code: 42226,
    msg: 'another transfer of the linked chain failed',
  },
  linked_chain_open: {
    status: 422,
    code: 42227,
    msg: 'the last transfer of the batch is linked: the chain never closes',
  },
  payment_not_found: { status: 404, code: 40412, msg: 'no such payment' },
  payment_already_exists: {
    status: 409,
    code: 40919,
    msg: 'this merchantOrderNo exists with other terms',
  },
  expiry_not_in_future: { status: 422, code: 42218, msg: 'the expiry must be in the future' },
  payment_already_succeeded: { status: 409, code: 40920, msg: 'the payment already succeeded' },
  payment_not_pending: { status: 409, code: 40921, msg: 'the payment is not pending' },
  payment_not_expired_yet: { status: 422, code: 42219, msg: 'the payment has not expired yet' },
  payment_not_succeeded: { status: 409, code: 40924, msg: 'only a paid payment can be refunded' },
  refund_exceeds_paid: {
    status: 422,
    code: 42221,
    msg: 'the refunds would exceed the amount paid',
  },
  refund_id_conflict: { status: 409, code: 40922, msg: 'this refundId exists with another amount' },
  refund_not_found: { status: 404, code: 40413, msg: 'no such refund' },
  refund_already_resolved: {
    status: 409,
    code: 40923,
    msg: 'the refund already has another outcome',
  },
  empty_usage: {
    status: 422,
    code: 42222,
    msg: 'a usage record needs uploadBytes or downloadBytes above zero',
  },
  usage_overflow: { status: 422, code: 42223, msg: 'the usage would leave the safe-integer range' },
  quota_overflow: { status: 422, code: 42224, msg: 'the quota would leave the safe-integer range' },
} as const satisfies Record<DomainRejection, Spec>;

/** Channel callbacks and recorded transfer refusals that are not a decider's own rejection. */
export const channelErrorCodes = {
  invalid_signature: { status: 401, code: 40102, msg: 'the callback signature does not verify' },
  stale_signature: {
    status: 401,
    code: 40103,
    msg: 'the callback timestamp is outside the accepted window',
  },
  transfer_rejected: { status: 422, code: 42225, msg: 'the transfer was refused' },
} as const satisfies Record<string, Spec>;
