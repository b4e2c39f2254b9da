import type { Currency } from '../money';

/**
 * Outbound calls to a payment channel (WeChat Pay, Alipay, Stripe-style, sandbox). Adapters own
 * timeouts, retries of transient errors and a circuit breaker per channel; what reaches the
 * caller is a value: success, or a failure that is `transient` (retry later: timeout, 5xx, open
 * breaker) or `permanent` (the channel refused: retrying cannot help).
 */
export type ChannelCallResult<Value> =
  { ok: true; value: Value } | { ok: false; kind: 'transient' | 'permanent'; reason: string };

export type ChannelOrder = {
  paymentId: string;
  merchantOrderNo: string;
  amountMinor: number;
  currency: Currency;
  subject: string;
  expiresAt: string;
};

export type ChannelOrderStatus = {
  status: 'pending' | 'succeeded' | 'closed' | 'failed';
  channelTransactionId: string | null;
  amountMinor: number | null;
  currency: Currency | null;
  /** The channel's own paid time (ISO-8601) of a paid order; null when unpaid or not said. */
  paidAt: string | null;
};

export type ChannelRefundRequest = {
  paymentId: string;
  refundId: string;
  amountMinor: number;
  currency: Currency;
  channelTransactionId: string;
};

/** Which refund to look up: the channel finds it by our refund id (and, for Stripe, the charge). */
export type ChannelRefundQuery = {
  paymentId: string;
  refundId: string;
  channelTransactionId: string;
};

/**
 * A refund as the channel knows it: `unknown` when the channel has no such refund (the request
 * never reached it), `pending` while it is being processed.
 */
export type ChannelRefundStatus =
  | { status: 'unknown' | 'pending' }
  | { status: 'succeeded'; channelRefundId: string }
  | { status: 'failed'; failureReason: string };

export interface PaymentChannelGateway {
  /** The channel's name, as in payments' `channel` field. */
  readonly channel: string;
  /** Creates the channel order; returns what the payer's client needs to pay. */
  createOrder(
    order: ChannelOrder,
  ): Promise<ChannelCallResult<{ payerParameters: Record<string, string> }>>;
  /** Asks the channel for the order's current status. */
  queryOrder(paymentId: string): Promise<ChannelCallResult<ChannelOrderStatus>>;
  /** Closes an unpaid order so it can no longer be paid. */
  closeOrder(paymentId: string): Promise<ChannelCallResult<{ closed: true }>>;
  /** Asks the channel for a refund's current status (after a crash, a lost callback). */
  queryRefund(query: ChannelRefundQuery): Promise<ChannelCallResult<ChannelRefundStatus>>;
  /**
   * Requests a refund, idempotent per (paymentId, refundId) at the channel;
   * `succeeded` when the channel answers at once, `accepted` when a callback follows. */
  refund(
    request: ChannelRefundRequest,
  ): Promise<
    ChannelCallResult<{ status: 'accepted' | 'succeeded'; channelRefundId: string | null }>
  >;
}
