import Ajv, { type JSONSchemaType } from 'ajv';
import addFormats from 'ajv-formats';
import { knownCurrencies } from '../../domain/money';
import type {
  ChannelCallbackVerifier,
  ChannelNotification,
} from '../../domain/ports/channel-callback.port';
import { STALE, isWithinWindow, refuse } from './callback-window';
import { matchesAnySecret, parseSignatureHeader, signTimestampedHmac } from './timestamped-hmac';

/**
 * The sandbox channel's callbacks, signed like Stripe's webhooks: header
 * `Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>`.
 * Several v1 values may be sent while a secret rotates; one matching is enough.
 */
export const SANDBOX_SIGNATURE_HEADER = 'sandbox-signature';

export type SandboxCallbackBody =
  | {
      event: 'payment.succeeded';
      paymentId: string;
      channelTransactionId: string;
      amountMinor: number;
      currency: string;
      /** When the payer paid (ISO-8601): the payment is judged by it against its expiry. */
      paidAt?: string;
    }
  | {
      event: 'payment.failed';
      paymentId: string;
      channelTransactionId: string;
      failureReason: string;
    }
  | { event: 'refund.succeeded'; paymentId: string; refundId: string; channelRefundId: string }
  | { event: 'refund.failed'; paymentId: string; refundId: string; failureReason: string };

const text = { type: 'string', minLength: 1, maxLength: 128 } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const variant = <Event extends SandboxCallbackBody['event']>(
  event: Event,
  fields: Record<string, object>,
  optional: readonly string[] = [],
) => ({
  type: 'object',
  additionalProperties: false,
  required: [
    'event',
    'paymentId',
    ...Object.keys(fields).filter((name) => !optional.includes(name)),
  ],
  properties: { event: { const: event }, paymentId: uuid, ...fields },
});
const bodySchema = {
  oneOf: [
    variant(
      'payment.succeeded',
      {
        channelTransactionId: text,
        amountMinor: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
        currency: { type: 'string', enum: knownCurrencies() },
        paidAt: { type: 'string', format: 'date-time' },
      },
      ['paidAt'],
    ),
    variant('payment.failed', { channelTransactionId: text, failureReason: text }),
    variant('refund.succeeded', { refundId: text, channelRefundId: text }),
    variant('refund.failed', { refundId: text, failureReason: text }),
  ],
} as unknown as JSONSchemaType<SandboxCallbackBody>;

const ajv = new Ajv({ strict: true });
addFormats(ajv);
const validateBody = ajv.compile(bodySchema);

/** The header value a sandbox channel sends with `rawBody` at `nowMs`. */
export const signSandboxCallback = (secret: string, rawBody: Buffer, nowMs: number): string =>
  signTimestampedHmac(secret, rawBody, nowMs);

const toNotification = (body: SandboxCallbackBody): ChannelNotification => {
  switch (body.event) {
    case 'payment.succeeded': {
      const { paymentId, channelTransactionId, amountMinor, currency, paidAt } = body;
      return {
        kind: 'payment',
        outcome: 'succeeded',
        paymentId,
        channelTransactionId,
        amountMinor,
        currency,
        ...(paidAt === undefined ? {} : { channelPaidAt: new Date(paidAt).toISOString() }),
      };
    }
    case 'payment.failed':
      return {
        kind: 'payment',
        outcome: 'failed',
        paymentId: body.paymentId,
        channelTransactionId: body.channelTransactionId,
        failureReason: body.failureReason,
      };
    case 'refund.succeeded':
      return {
        kind: 'refund',
        outcome: 'succeeded',
        paymentId: body.paymentId,
        refundId: body.refundId,
        channelRefundId: body.channelRefundId,
      };
    case 'refund.failed':
      return {
        kind: 'refund',
        outcome: 'failed',
        paymentId: body.paymentId,
        refundId: body.refundId,
        failureReason: body.failureReason,
      };
  }
};

export const createSandboxChannelVerifier = (options: {
  secrets: readonly string[];
}): ChannelCallbackVerifier => ({
  channel: 'sandbox',
  acknowledge: null,
  verify(rawBody, headers, nowMs) {
    const parsed = parseSignatureHeader(headers[SANDBOX_SIGNATURE_HEADER] ?? '');
    if (parsed === null)
      return refuse('invalid_signature', 'missing or malformed Sandbox-Signature header');
    if (!isWithinWindow(Number(parsed.timestampSeconds) * 1000, nowMs)) return STALE;
    if (!matchesAnySecret(parsed, options.secrets, rawBody))
      return refuse('invalid_signature', 'no signature matches');
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return refuse('malformed_callback', 'callback body is not valid JSON');
    }
    if (!validateBody(body)) {
      const first = validateBody.errors?.[0];
      return refuse(
        'malformed_callback',
        `callback body${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}`,
      );
    }
    // The signature is unique per body and second: a second delivery of the same bytes is a replay.
    return {
      ok: true,
      notification: toNotification(body),
      replayKey: `${parsed.timestampSeconds}:${parsed.signatures.join(':')}`,
    };
  },
});
