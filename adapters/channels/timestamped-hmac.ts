import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stripe's webhook signature scheme, also used by the sandbox: header `t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, t + "." + raw body)>`. Several v1 values may be sent while a secret
 * rotates, and several secrets may be configured: one match is enough.
 */
const SIGNATURE_HEADER_CHARS_MAX = 1024;
const V1_PATTERN = /^[0-9a-f]{64}$/;

type SignatureHeader = { timestampSeconds: string; signatures: string[] };

const hmacHex = (secret: string, timestampSeconds: string, rawBody: Buffer): string =>
  createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');

/** The header value for `rawBody` signed at `nowMs`. */
export const signTimestampedHmac = (secret: string, rawBody: Buffer, nowMs: number): string => {
  const timestampSeconds = Math.floor(nowMs / 1000).toString();
  return `t=${timestampSeconds},v1=${hmacHex(secret, timestampSeconds, rawBody)}`;
};

/** Null when the header is missing, oversized, has no timestamp or no well-formed v1 value. */
export const parseSignatureHeader = (header: string): SignatureHeader | null => {
  if (header.length > SIGNATURE_HEADER_CHARS_MAX) return null;
  const parts = header.split(',').map((part) => part.trim().split('='));
  const timestamps = parts.filter(([name]) => name === 't');
  const timestampSeconds = timestamps[0]?.[1];
  const signatures = parts
    .filter(([name, value]) => name === 'v1' && value !== undefined && V1_PATTERN.test(value))
    .map(([, value]) => value ?? '');
  if (
    timestamps.length !== 1 ||
    timestampSeconds === undefined ||
    !/^\d{1,12}$/.test(timestampSeconds)
  )
    return null;
  return signatures.length === 0 ? null : { timestampSeconds, signatures };
};

/** True when one presented v1 value is the HMAC of one configured secret. */
export const matchesAnySecret = (
  parsed: SignatureHeader,
  secrets: readonly string[],
  rawBody: Buffer,
): boolean => {
  const presented = parsed.signatures.map((hex) => Buffer.from(hex, 'hex'));
  return secrets.some((secret) => {
    const expected = Buffer.from(hmacHex(secret, parsed.timestampSeconds, rawBody), 'hex');
    return presented.some((signature) => timingSafeEqual(signature, expected));
  });
};
