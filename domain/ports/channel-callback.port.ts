import type { Currency } from '../money';

/** What a payment channel told us, once its signature verified. */
export type ChannelNotification =
  | {
      kind: 'payment';
      paymentId: string;
      outcome: 'succeeded';
      channelTransactionId: string;
      amountMinor: number;
      currency: Currency;
    }
  | { kind: 'payment'; paymentId: string; outcome: 'failed'; channelTransactionId: string; failureReason: string }
  | { kind: 'refund'; paymentId: string; refundId: string; outcome: 'succeeded'; channelRefundId: string }
  | { kind: 'refund'; paymentId: string; refundId: string; outcome: 'failed'; failureReason: string };

export type CallbackRefusal = 'invalid_signature' | 'stale_signature' | 'malformed_callback';

/** Verifies a channel's callback over the exact bytes received and parses it. */
export interface ChannelCallbackVerifier {
  /** The channel's name in routes and payments, e.g. 'sandbox'. */
  readonly channel: string;
  /** Checks signature and timestamp window, then parses; never throws on bad input. */
  verify(
    rawBody: Buffer,
    headers: Readonly<Record<string, string | undefined>>,
    nowMs: number,
  ): { ok: true; notification: ChannelNotification } | { ok: false; refusal: CallbackRefusal; detail: string };
}
