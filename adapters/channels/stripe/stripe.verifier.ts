import type {
  ChannelCallbackVerifier,
  ChannelNotification,
} from '../../../domain/ports/channel-callback.port';
import { isCurrency } from '../../../domain/money';
import { STALE, isWithinWindow, refuse } from '../callback-window';
import { paidAtOf, unixSecondsTime } from '../channel-paid-time';
import { matchesAnySecret, parseSignatureHeader } from '../timestamped-hmac';

/**
 * Stripe-style webhooks: `Stripe-Signature: t=…,v1=…` (HMAC-SHA256 of `t + "." + raw body`),
 * 300 s tolerance; several v1 values and several secrets are accepted during a rotation. The
 * event id is the replay key: Stripe redelivers an event under the same id.
 */
const STRIPE_SIGNATURE_HEADER = 'stripe-signature';

type StripeObject = {
  id?: unknown;
  amount?: unknown;
  amount_received?: unknown;
  currency?: unknown;
  status?: unknown;
  failure_reason?: unknown;
  metadata?: { paymentId?: unknown; refundId?: unknown };
  last_payment_error?: { message?: unknown };
};
type StripeEvent = {
  id?: unknown;
  type?: unknown;
  created?: unknown;
  data?: { object?: StripeObject };
};

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const createStripeVerifier = (options: {
  secrets: readonly string[];
}): ChannelCallbackVerifier => ({
  channel: 'stripe',
  acknowledge: (accepted, message) => ({
    contentType: 'application/json',
    body: JSON.stringify(accepted ? { received: true } : { error: message }),
  }),
  verify(rawBody, headers, nowMs) {
    const parsed = parseSignatureHeader(headers[STRIPE_SIGNATURE_HEADER] ?? '');
    if (parsed === null)
      return refuse('invalid_signature', 'missing or malformed Stripe-Signature header');
    if (!isWithinWindow(Number(parsed.timestampSeconds) * 1000, nowMs)) return STALE;
    if (!matchesAnySecret(parsed, options.secrets, rawBody))
      return refuse('invalid_signature', 'no signature matches');
    let event: StripeEvent;
    try {
      event = JSON.parse(rawBody.toString('utf8')) as StripeEvent;
    } catch {
      return refuse('malformed_callback', 'body is not valid JSON');
    }
    const eventId = typeof event === 'object' && event !== null ? text(event.id) : '';
    const object = eventId === '' ? undefined : event.data?.object;
    if (object === undefined || typeof object !== 'object' || object === null)
      return refuse('malformed_callback', 'event id or data.object missing');
    const type = text(event.type);
    // Stripe sends every type the endpoint subscribes to; one it does not act on is acknowledged.
    if (!HANDLED_EVENT_TYPES.has(type))
      return { ok: 'no_effect', detail: `event type '${type}' is not acted on` };
    const notification = toNotification(type, object, event.created);
    if (notification === IN_PROGRESS)
      return { ok: 'no_effect', detail: `refund status '${text(object.status)}' is not final` };
    return typeof notification === 'string'
      ? refuse('malformed_callback', notification)
      : { ok: true, notification, replayKey: eventId };
  },
});

const HANDLED_EVENT_TYPES = new Set([
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'refund.updated',
  'refund.failed',
]);
/** A refund.updated whose refund is neither succeeded nor failed yet (pending, requires_action). */
const IN_PROGRESS = Symbol('in progress');

const toNotification = (
  type: string,
  object: StripeObject,
  /** When the event happened: for payment_intent.succeeded, when the payment succeeded. */
  eventCreated: unknown,
): ChannelNotification | string | typeof IN_PROGRESS => {
  const paymentId = text(object.metadata?.paymentId);
  const objectId = text(object.id);
  if (!UUID_PATTERN.test(paymentId) || objectId === '')
    return 'object id or metadata.paymentId is invalid';
  switch (type) {
    case 'payment_intent.succeeded': {
      const amountMinor = object.amount_received ?? object.amount;
      const currency = text(object.currency).toUpperCase();
      if (
        typeof amountMinor !== 'number' ||
        !Number.isSafeInteger(amountMinor) ||
        amountMinor <= 0 ||
        !isCurrency(currency)
      )
        return 'amount or currency is invalid';
      return {
        kind: 'payment',
        outcome: 'succeeded',
        paymentId,
        channelTransactionId: objectId,
        amountMinor,
        currency,
        ...paidAtOf(unixSecondsTime(eventCreated)),
      };
    }
    case 'payment_intent.payment_failed':
    case 'payment_intent.canceled':
      return {
        kind: 'payment',
        outcome: 'failed',
        paymentId,
        channelTransactionId: objectId,
        failureReason: text(object.last_payment_error?.message).slice(0, 128) || type,
      };
    case 'refund.updated':
    case 'refund.failed': {
      const refundId = text(object.metadata?.refundId);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(refundId)) return 'metadata.refundId is invalid';
      if (object.status === 'succeeded')
        return {
          kind: 'refund',
          outcome: 'succeeded',
          paymentId,
          refundId,
          channelRefundId: objectId,
        };
      if (object.status === 'failed' || object.status === 'canceled')
        return {
          kind: 'refund',
          outcome: 'failed',
          paymentId,
          refundId,
          failureReason: text(object.failure_reason).slice(0, 128) || 'refund failed',
        };
      if (typeof object.status === 'string' && object.status !== '') return IN_PROGRESS;
      return 'refund status is missing';
    }
    default:
      return `unsupported event type '${type}'`;
  }
};
