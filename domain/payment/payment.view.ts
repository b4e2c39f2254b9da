import {
  refundableMinorOf,
  type PaymentFlag,
  type PaymentRecord,
  type PaymentRefund,
  type PaymentState,
  type PaymentTerms,
} from './payment.model';
import { modeOfRecorded, type Mode } from '../mode/mode';

type PaymentRefundView = {
  refundId: string;
  /** Its payment's. */
  mode: Mode;
  amountMinor: number;
  status: PaymentRefund['status'];
  reason: string;
  requestedAt: string;
  channelRefundId: string | null;
  failureReason: string | null;
  resolvedAt: string | null;
};

/** GET /v1/payments/:id: plain JSON (absent facts are null), no bigint, no functions. */
export type PaymentView = Omit<PaymentTerms, 'notifyUrl' | 'returnUrl' | 'description' | 'mode'> & {
  mode: Mode;
  notifyUrl: string | null;
  returnUrl: string | null;
  description: string | null;
  status: PaymentRecord['status'];
  createdAt: string;
  channelTransactionId: string | null;
  paidAt: string | null;
  /** The channel's own paid time, when it said. */
  channelPaidAt: string | null;
  /** True when the payment was found paid by a query at the channel (no notification came). */
  recovered: boolean;
  failureReason: string | null;
  failedAt: string | null;
  closeReason: string | null;
  closedAt: string | null;
  expiredAt: string | null;
  refundedMinor: number;
  refundingMinor: number;
  refundableMinor: number;
  refunds: PaymentRefundView[];
  flags: PaymentFlag[];
};

/** Null when the payment does not exist (the API answers 404). */
export const paymentView = (state: PaymentState): PaymentView | null => {
  if (state.status === 'none') return null;
  const mode = modeOfRecorded(state.mode, state.channel);
  return {
    paymentId: state.paymentId,
    mode,
    merchantId: state.merchantId,
    merchantOrderNo: state.merchantOrderNo,
    amountMinor: state.amountMinor,
    currency: state.currency,
    channel: state.channel,
    subject: state.subject,
    creditAccountId: state.creditAccountId,
    expiresAt: state.expiresAt,
    notifyUrl: state.notifyUrl ?? null,
    returnUrl: state.returnUrl ?? null,
    description: state.description ?? null,
    createdAt: state.createdAt,
    status: state.status,
    ...outcomeView(state),
    refundedMinor: state.refundedMinor,
    refundingMinor: state.refundingMinor,
    refundableMinor: refundableMinorOf(state),
    refunds: refundViews(state.refunds).map((refund) => ({ mode, ...refund })),
    flags: state.flags.map((flag) => ({ ...flag })),
  };
};

type OutcomeView = Pick<
  PaymentView,
  | 'channelTransactionId'
  | 'paidAt'
  | 'channelPaidAt'
  | 'recovered'
  | 'failureReason'
  | 'failedAt'
  | 'closeReason'
  | 'closedAt'
  | 'expiredAt'
>;

const noOutcome: OutcomeView = {
  channelTransactionId: null,
  paidAt: null,
  channelPaidAt: null,
  recovered: false,
  failureReason: null,
  failedAt: null,
  closeReason: null,
  closedAt: null,
  expiredAt: null,
};

const outcomeView = (payment: PaymentRecord): OutcomeView => {
  switch (payment.status) {
    case 'pending':
      return noOutcome;
    case 'succeeded': {
      const { channelTransactionId, paidAt, channelPaidAt = null, recovered } = payment.paid;
      return {
        ...noOutcome,
        channelTransactionId,
        paidAt,
        channelPaidAt,
        recovered: recovered === true,
      };
    }
    case 'failed': {
      const { channelTransactionId, failureReason, failedAt } = payment.failure;
      return { ...noOutcome, channelTransactionId, failureReason, failedAt };
    }
    case 'closed': {
      const { reason, closedAt } = payment.closure;
      return { ...noOutcome, closeReason: reason, closedAt };
    }
    case 'expired':
      return { ...noOutcome, expiredAt: payment.expiredAt };
  }
};

/** Oldest request first; ties (same instant) by refundId, so the order never depends on keys. */
const refundViews = (refunds: PaymentRecord['refunds']): Omit<PaymentRefundView, 'mode'>[] =>
  Object.entries(refunds)
    .map(([refundId, refund]) => refundView(refundId, refund))
    .sort((left, right) =>
      left.requestedAt === right.requestedAt
        ? compareText(left.refundId, right.refundId)
        : compareText(left.requestedAt, right.requestedAt),
    );

const compareText = (left: string, right: string): number =>
  left < right ? -1 : left > right ? 1 : 0;

const refundView = (refundId: string, refund: PaymentRefund): Omit<PaymentRefundView, 'mode'> => {
  const { amountMinor, status, reason, requestedAt } = refund;
  const request = { refundId, amountMinor, status, reason, requestedAt };
  switch (refund.status) {
    case 'requested':
      return { ...request, channelRefundId: null, failureReason: null, resolvedAt: null };
    case 'succeeded': {
      const { channelRefundId, succeededAt } = refund;
      return { ...request, channelRefundId, failureReason: null, resolvedAt: succeededAt };
    }
    case 'failed': {
      const { failureReason, failedAt } = refund;
      return { ...request, channelRefundId: null, failureReason, resolvedAt: failedAt };
    }
  }
};
