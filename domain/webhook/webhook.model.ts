import { createHmac } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

/**
 * What a merchant's webhook endpoint may subscribe to, and which logged event each one is. The
 * event delivered keeps the id of the logged event it comes from: the merchant's dedupe key,
 * the same on every retry and every resend.
 */
export const webhookEventTypes = [
  'payment.succeeded',
  'payment.failed',
  'payment.expired',
  'payment.closed',
  'payment.flagged',
  'refund.succeeded',
  'refund.failed',
  'webhook_endpoint.disabled',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

const PAYMENT_EVENT_TYPES: Readonly<Record<string, WebhookEventType>> = {
  PaymentSucceeded: 'payment.succeeded',
  PaymentFailed: 'payment.failed',
  PaymentExpired: 'payment.expired',
  PaymentClosed: 'payment.closed',
  PaymentFlagged: 'payment.flagged',
  RefundSucceeded: 'refund.succeeded',
  RefundFailed: 'refund.failed',
};

/** The webhook event type of a payment stream's logged event, or null when none is sent. */
export const webhookTypeOfPaymentEvent = (loggedType: string): WebhookEventType | null =>
  Object.hasOwn(PAYMENT_EVENT_TYPES, loggedType) ? (PAYMENT_EVENT_TYPES[loggedType] ?? null) : null;

/** When a failed delivery is tried again, and for how long it keeps being tried. */
export type RetryPolicy = {
  /** The pause after the first failure; each further failure doubles it, up to retryDelayMsMax. */
  retryBaseMs: number;
  retryDelayMsMax: number;
  /** No attempt is scheduled later than this after the delivery was created (3 days). */
  retryWindowMs: number;
};

/**
 * The next attempt after `failedAttemptCount` failures (exponential back-off with jitter: a
 * uniform draw in the upper half of the pause, so that endpoints failing together do not retry
 * together), or null once it would fall outside the retry window: the delivery has failed.
 * `random` is in [0, 1).
 */
export const nextAttemptAtMs = (
  policy: RetryPolicy,
  delivery: { createdAtMs: number; failedAttemptCount: number },
  nowMs: number,
  random: number,
): number | null => {
  const exponent = Math.min(delivery.failedAttemptCount - 1, 30);
  const pauseMs = Math.min(policy.retryBaseMs * 2 ** exponent, policy.retryDelayMsMax);
  const atMs = nowMs + Math.round(pauseMs / 2 + (random * pauseMs) / 2);
  return atMs > delivery.createdAtMs + policy.retryWindowMs ? null : atMs;
};

const hmacHex = (secret: string, timestampS: number, body: string): string =>
  createHmac('sha256', secret).update(`${timestampS}.${body}`, 'utf8').digest('hex');

/**
 * The `Webhook-Signature` header, as Stripe writes its own: `t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, t + "." + body)>`, one v1 per secret valid now (two while rotating).
 */
export const signWebhook = (secrets: readonly string[], timestampS: number, body: string): string =>
  [`t=${timestampS}`, ...secrets.map((secret) => `v1=${hmacHex(secret, timestampS, body)}`)].join(
    ',',
  );

const MERCHANT_SECRET_NAMESPACE = '2b9e4c71-0d3a-4f58-8e6b-7a1c5d9f3e20';

/** The id of the row holding a merchant's secret, which signs its payments' notifyUrl calls. */
export const merchantSecretIdOf = (merchantId: string): string =>
  uuidv5(merchantId, MERCHANT_SECRET_NAMESPACE);
