import type { SealedHolder } from '../personal-data/holder';
import type { Decision } from '../decision';
import type { Currency } from '../money';
import type { Mode } from '../mode/mode';
import { instantMs } from './instant';

/**
 * Stream payment-<paymentId>. The API derives paymentId from `${merchantId}:${merchantOrderNo}`
 * (uuid v5), so each merchant order has one stream and a retried create lands on the same one.
 */
export const paymentChannels = ['sandbox', 'wechat', 'alipay', 'stripe'] as const;
export type PaymentChannel = (typeof paymentChannels)[number];

/** What the merchant fixes at creation; a retried CreatePayment must repeat every field exactly. */
export type PaymentTerms = {
  paymentId: string;
  merchantId: string;
  merchantOrderNo: string;
  amountMinor: number;
  currency: Currency;
  channel: PaymentChannel;
  subject: string;
  creditAccountId: string;
  expiresAt: string;
  /** A one-off webhook target for this payment's events (signed with the merchant's secret). */
  notifyUrl?: string;
  /** Where the payer's browser goes back to; kept and shown, never called by the service. */
  returnUrl?: string;
  description?: string;
  /**
   * The mode of the merchant that created it (its refunds share it). Absent in events written
   * before modes: read through modeOfRecorded. Not a term a retry is compared on: a merchant's
   * mode never changes.
   */
  mode?: Mode;
};

/** Compared in this order, so payment_already_exists names the first differing field. */
export const paymentTermFields = [
  'paymentId',
  'merchantId',
  'merchantOrderNo',
  'amountMinor',
  'currency',
  'channel',
  'subject',
  'creditAccountId',
  'expiresAt',
  'notifyUrl',
  'returnUrl',
  'description',
] as const satisfies readonly (keyof PaymentTerms)[];

/**
 * How the channel reported a success. `channelPaidAt` is the channel's own paid time (WeChat
 * `time_end` / `success_time`, Alipay `gmt_payment`, Stripe's event time, the sandbox's `paidAt`):
 * a success is judged by it against `expiresAt`, never by when the report reached us; absent when
 * the channel did not say. `recovered`: found by querying the channel, no notification came.
 */
export type ChannelSuccess = {
  outcome: 'succeeded';
  channelTransactionId: string;
  amountMinor: number;
  currency: Currency;
  channelPaidAt?: string;
  recovered?: boolean;
};

export type ChannelResult =
  ChannelSuccess | { outcome: 'failed'; channelTransactionId: string; failureReason: string };

export type RefundResult =
  | { refundId: string; outcome: 'succeeded'; channelRefundId: string }
  | { refundId: string; outcome: 'failed'; failureReason: string };

type At = { now: string };

export type PaymentCommand =
  | { type: 'CreatePayment'; data: PaymentTerms & At & HolderOf }
  | { type: 'RecordChannelResult'; data: ChannelResult & At }
  | { type: 'ClosePayment'; data: { reason: string } & At }
  | { type: 'ExpirePayment'; data: At }
  | { type: 'RequestRefund'; data: { refundId: string; amountMinor: number; reason: string } & At }
  | { type: 'RecordRefundResult'; data: RefundResult & At };

/** The payer's personal data, sealed under its subject's key; absent: none given. */
type HolderOf = { holder?: SealedHolder };

export type PaymentCreated = PaymentTerms & { createdAt: string } & HolderOf;
/** `paidAt`: when the ledger recorded it; `channelPaidAt`: when the channel says it was paid. */
export type PaymentPaid = {
  channelTransactionId: string;
  amountMinor: number;
  currency: Currency;
  paidAt: string;
  channelPaidAt?: string;
  /** Found paid by a query at the channel (its notification never came). */
  recovered?: true;
};
export type PaymentFailure = {
  channelTransactionId: string;
  failureReason: string;
  failedAt: string;
};
export type PaymentClosure = { reason: string; closedAt: string };

/** Why a channel's success report did not pay: the money is to be refunded, never credited. */
export type FlagReason =
  'amount_mismatch' | 'currency_mismatch' | 'paid_twice' | 'paid_after_close';
export type PaymentFlag = {
  reason: FlagReason;
  channelTransactionId: string;
  amountMinor: number;
  currency: Currency;
  flaggedAt: string;
  channelPaidAt?: string;
};

export type RefundRequested = {
  refundId: string;
  amountMinor: number;
  reason: string;
  requestedAt: string;
};
export type RefundSucceeded = {
  refundId: string;
  amountMinor: number;
  channelRefundId: string;
  succeededAt: string;
};
export type RefundFailed = {
  refundId: string;
  amountMinor: number;
  failureReason: string;
  failedAt: string;
};

export type PaymentEvent =
  | { type: 'PaymentCreated'; data: PaymentCreated }
  | { type: 'PaymentSucceeded'; data: PaymentPaid }
  | { type: 'PaymentFlagged'; data: PaymentFlag }
  | { type: 'PaymentFailed'; data: PaymentFailure }
  | { type: 'PaymentClosed'; data: PaymentClosure }
  | { type: 'PaymentExpired'; data: { expiredAt: string } }
  | { type: 'RefundRequested'; data: RefundRequested }
  | { type: 'RefundSucceeded'; data: RefundSucceeded }
  | { type: 'RefundFailed'; data: RefundFailed };

/** A refund and, once the channel answered, its answer. */
export type PaymentRefund = { amountMinor: number; reason: string; requestedAt: string } & (
  | { status: 'requested' }
  | { status: 'succeeded'; channelRefundId: string; succeededAt: string }
  | { status: 'failed'; failureReason: string; failedAt: string }
);

type PaymentBase = PaymentCreated & {
  /** Keyed by refundId; read through findRefund, never by plain indexing (see there). */
  refunds: Readonly<Record<string, PaymentRefund>>;
  refundedMinor: number;
  refundingMinor: number;
  flags: readonly PaymentFlag[];
};

/** An existing payment; each status carries the facts that put it there. */
export type PaymentRecord = PaymentBase &
  (
    | { status: 'pending' }
    | { status: 'succeeded'; paid: PaymentPaid }
    | { status: 'failed'; failure: PaymentFailure }
    | { status: 'closed'; closure: PaymentClosure }
    | { status: 'expired'; expiredAt: string }
  );

export type PaymentState = { status: 'none' } | PaymentRecord;

export const paymentRejections = [
  'payment_not_found',
  'payment_already_exists',
  'expiry_not_in_future',
  'payment_already_succeeded',
  'payment_not_pending',
  'payment_not_expired_yet',
  'payment_not_succeeded',
  'refund_exceeds_paid',
  'refund_id_conflict',
  'refund_not_found',
  'refund_already_resolved',
] as const;
export type PaymentRejection = (typeof paymentRejections)[number];
export type PaymentDecision = Decision<PaymentEvent, PaymentRejection>;

/**
 * Refund ids are client-chosen and may be 'constructor' or '__proto__': an own-property check
 * keeps Object.prototype members from passing for refunds.
 */
export const findRefund = (payment: PaymentRecord, refundId: string): PaymentRefund | null =>
  Object.hasOwn(payment.refunds, refundId) ? (payment.refunds[refundId] ?? null) : null;

/** What may still be refunded: paid minus refunds that succeeded or are still in flight. */
export const refundableMinorOf = (payment: PaymentRecord): number =>
  payment.status === 'succeeded'
    ? payment.paid.amountMinor - payment.refundedMinor - payment.refundingMinor
    : 0;

export const hasFlag = (
  payment: PaymentRecord,
  reason: FlagReason,
  channelTransactionId: string,
): boolean =>
  payment.flags.some(
    (flag) => flag.reason === reason && flag.channelTransactionId === channelTransactionId,
  );

/**
 * Whether the channel's paid time falls within the payment's life: at or before `expiresAt`.
 * Unknown (the channel gave no time) counts as not within, so that only a dated payment revives an
 * expired one; a pending payment is judged by it only when the time is known.
 */
const paidInTime = (payment: PaymentRecord, channelPaidAt: string | undefined): boolean =>
  channelPaidAt !== undefined &&
  instantMs(channelPaidAt, 'channelPaidAt') <= instantMs(payment.expiresAt, 'expiresAt');

/**
 * Null when the report pays the payment; otherwise why its money must go back, never credited.
 * The channel's paid time decides against the deadline, not the arrival time: paid by
 * `expiresAt`, an expired payment is still paid (its notification was late); paid after it, a
 * still-pending payment is not (the order outlived its deadline at the channel).
 */
export const flagReason = (
  payment: PaymentRecord,
  amountMinor: number,
  currency: string,
  channelPaidAt?: string,
): FlagReason | null => {
  switch (payment.status) {
    case 'pending':
    case 'expired': {
      const payable =
        payment.status === 'pending'
          ? channelPaidAt === undefined || paidInTime(payment, channelPaidAt)
          : paidInTime(payment, channelPaidAt);
      if (!payable) return 'paid_after_close';
      if (currency !== payment.currency) return 'currency_mismatch';
      return amountMinor === payment.amountMinor ? null : 'amount_mismatch';
    }
    case 'succeeded':
      return 'paid_twice';
    case 'failed':
    case 'closed':
      return 'paid_after_close';
  }
};
