import type { Currency } from '../money';
import type { IdempotencyRecord } from './event-store.port';

/** What a payment channel told us, once its signature verified. */
export type ChannelNotification =
  | {
      kind: 'payment';
      paymentId: string;
      outcome: 'succeeded';
      channelTransactionId: string;
      amountMinor: number;
      currency: Currency;
      /** The channel's own paid time (ISO-8601), when the notification carries one. */
      channelPaidAt?: string;
    }
  | {
      kind: 'payment';
      paymentId: string;
      outcome: 'failed';
      channelTransactionId: string;
      failureReason: string;
    }
  | {
      kind: 'refund';
      paymentId: string;
      refundId: string;
      outcome: 'succeeded';
      channelRefundId: string;
    }
  | {
      kind: 'refund';
      paymentId: string;
      refundId: string;
      outcome: 'failed';
      failureReason: string;
    };

export type CallbackRefusal = 'invalid_signature' | 'stale_signature' | 'malformed_callback';

export type VerifyResult =
  | {
      ok: true;
      notification: ChannelNotification;
      /** The delivery's nonce / notify id: seen again within the retention, it is a replay. */
      replayKey: string;
    }
  | { ok: false; refusal: CallbackRefusal; detail: string }
  /**
   * Signed and well formed, but nothing to apply: an event type the service does not act on, or
   * a refund still in progress. Acknowledged, so the channel stops redelivering it.
   */
  | { ok: 'no_effect'; detail: string };

/** The channel's own answer body; callers keep the HTTP status. */
export type ChannelAcknowledgement = { contentType: string; body: string };

/** Verifies a channel's callback over the exact bytes received and parses it. */
export interface ChannelCallbackVerifier {
  /** The channel's name in routes and payments, e.g. 'sandbox'. */
  readonly channel: string;
  /** Checks signature and timestamp window, then parses; never throws on bad input. */
  verify(
    rawBody: Buffer,
    headers: Readonly<Record<string, string | undefined>>,
    nowMs: number,
  ): VerifyResult;
  /** The channel's acknowledgement format; null: the API's JSON envelope (sandbox). */
  readonly acknowledge: ((accepted: boolean, message: string) => ChannelAcknowledgement) | null;
}

/**
 * Durable memory of delivered replay keys (nonce / notify id) per channel, kept at least for the
 * signature window so that a captured callback replayed within it is recognised. A key is
 * remembered by committing its record in the same append as the callback's events.
 */
export interface CallbackReplayGuard {
  /** True when this key's record was committed before and not yet purged. */
  seen(channel: string, replayKey: string): Promise<boolean>;
  /** The record that remembers the key: CommandContext.records of the callback's command. */
  recordOf(channel: string, replayKey: string, nowMs: number): IdempotencyRecord;
}
