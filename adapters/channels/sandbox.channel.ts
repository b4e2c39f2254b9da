import { createHmac, timingSafeEqual } from 'node:crypto';
import Ajv, { type JSONSchemaType } from 'ajv';
import addFormats from 'ajv-formats';
import { knownCurrencies } from '../../domain/money';
import type { ChannelCallbackVerifier, ChannelNotification } from '../../domain/ports/channel-callback.port';

/**
 * The sandbox channel's callbacks, signed like Stripe's webhooks: header
 * `Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>`.
 * Several v1 values may be sent while a secret rotates; one matching is enough.
 */
export const SANDBOX_SIGNATURE_HEADER = 'sandbox-signature';
export const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;
/** A timestamp this far in the future is still accepted: the channel's clock may run ahead. */
export const SIGNATURE_SKEW_MS = 60 * 1000;
const SIGNATURE_HEADER_CHARS_MAX = 1024;

export type SandboxCallbackBody =
  | { event: 'payment.succeeded'; paymentId: string; channelTransactionId: string; amountMinor: number; currency: string }
  | { event: 'payment.failed'; paymentId: string; channelTransactionId: string; failureReason: string }
  | { event: 'refund.succeeded'; paymentId: string; refundId: string; channelRefundId: string }
  | { event: 'refund.failed'; paymentId: string; refundId: string; failureReason: string };

const text = { type: 'string', minLength: 1, maxLength: 128 } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const variant = <Event extends SandboxCallbackBody['event']>(event: Event, fields: Record<string, object>) => ({
  type: 'object',
  additionalProperties: false,
  required: ['event', 'paymentId', ...Object.keys(fields)],
  properties: { event: { const: event }, paymentId: uuid, ...fields },
});
const bodySchema = {
  oneOf: [
    variant('payment.succeeded', {
      channelTransactionId: text,
      amountMinor: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
      currency: { type: 'string', enum: knownCurrencies() },
    }),
    variant('payment.failed', { channelTransactionId: text, failureReason: text }),
    variant('refund.succeeded', { refundId: text, channelRefundId: text }),
    variant('refund.failed', { refundId: text, failureReason: text }),
  ],
} as unknown as JSONSchemaType<SandboxCallbackBody>;

const ajv = new Ajv({ strict: true });
addFormats(ajv);
const validateBody = ajv.compile(bodySchema);

const hmacHex = (secret: string, timestampSeconds: string, rawBody: Buffer): string =>
  createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');

/** The header value a sandbox channel sends with `rawBody` at `nowMs`. */
export const signSandboxCallback = (secret: string, rawBody: Buffer, nowMs: number): string => {
  const timestampSeconds = Math.floor(nowMs / 1000).toString();
  return `t=${timestampSeconds},v1=${hmacHex(secret, timestampSeconds, rawBody)}`;
};

const parseSignatureHeader = (header: string): { timestampSeconds: string; signatures: string[] } | null => {
  if (header.length > SIGNATURE_HEADER_CHARS_MAX) return null;
  const parts = header.split(',').map((part) => part.trim().split('='));
  const timestampSeconds = parts.find(([name]) => name === 't')?.[1];
  const signatures = parts.filter(([name, value]) => name === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value)).map(([, value]) => value ?? '');
  if (timestampSeconds === undefined || !/^\d{1,12}$/.test(timestampSeconds) || signatures.length === 0) return null;
  return { timestampSeconds, signatures };
};

const toNotification = (body: SandboxCallbackBody): ChannelNotification => {
  switch (body.event) {
    case 'payment.succeeded': {
      const { paymentId, channelTransactionId, amountMinor, currency } = body;
      return { kind: 'payment', outcome: 'succeeded', paymentId, channelTransactionId, amountMinor, currency };
    }
    case 'payment.failed':
      return { kind: 'payment', outcome: 'failed', paymentId: body.paymentId, channelTransactionId: body.channelTransactionId, failureReason: body.failureReason };
    case 'refund.succeeded':
      return { kind: 'refund', outcome: 'succeeded', paymentId: body.paymentId, refundId: body.refundId, channelRefundId: body.channelRefundId };
    case 'refund.failed':
      return { kind: 'refund', outcome: 'failed', paymentId: body.paymentId, refundId: body.refundId, failureReason: body.failureReason };
  }
};

export const createSandboxChannelVerifier = (options: { secrets: readonly string[] }): ChannelCallbackVerifier => ({
  channel: 'sandbox',
  verify(rawBody, headers, nowMs) {
    const parsed = parseSignatureHeader(headers[SANDBOX_SIGNATURE_HEADER] ?? '');
    if (parsed === null) return { ok: false, refusal: 'invalid_signature', detail: 'missing or malformed Sandbox-Signature header' };
    const signedAtMs = Number(parsed.timestampSeconds) * 1000;
    if (nowMs - signedAtMs > SIGNATURE_TOLERANCE_MS || signedAtMs - nowMs > SIGNATURE_SKEW_MS) {
      return { ok: false, refusal: 'stale_signature', detail: 'timestamp outside the accepted window' };
    }
    const presented = parsed.signatures.map((hex) => Buffer.from(hex, 'hex'));
    const matches = options.secrets.some((secret) => {
      const expected = Buffer.from(hmacHex(secret, parsed.timestampSeconds, rawBody), 'hex');
      return presented.some((signature) => timingSafeEqual(signature, expected));
    });
    if (!matches) return { ok: false, refusal: 'invalid_signature', detail: 'no signature matches' };
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { ok: false, refusal: 'malformed_callback', detail: 'callback body is not valid JSON' };
    }
    if (!validateBody(body)) {
      const first = validateBody.errors?.[0];
      return { ok: false, refusal: 'malformed_callback', detail: `callback body${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}` };
    }
    return { ok: true, notification: toNotification(body) };
  },
});
