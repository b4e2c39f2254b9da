import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stripe's webhook signature scheme, also used by the sandbox: header `t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, t + "." + raw body)>`. Several v1 values may be sent while a secret
 * rotates, and several secrets may be configured: one match is enough.
 */
const SIGNATURE_HEADER_CHARS_MAX = 1024;
const V1_PATTERN = /^[0-9a-f]{64}$/;

type SignatureHeader = { timestampSeconds: string; signatures: string[] };

const hmacOf = (secret: string, timestampSeconds: string, rawBody: Buffer): Buffer =>
  createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest();

/** The header value for `rawBody` signed at `nowMs`. */
export const signTimestampedHmac = (secret: string, rawBody: Buffer, nowMs: number): string => {
  const timestampSeconds = Math.floor(nowMs / 1000).toString();
  return `t=${timestampSeconds},v1=${hmacOf(secret, timestampSeconds, rawBody).toString('hex')}`;
};

/** A part's value: what follows its first `=`, up to a second one (`t=1=2` is `1`). */
const valueOf = (part: string, equalsAt: number): string => {
  const end = part.indexOf('=', equalsAt + 1);
  return end === -1 ? part.slice(equalsAt + 1) : part.slice(equalsAt + 1, end);
};

/**
 * Null when the header is missing, oversized, has no timestamp or no well-formed v1 value. One
 * pass over the comma-separated parts (a callback's route runs it on every delivery).
 */
export const parseSignatureHeader = (header: string): SignatureHeader | null => {
  if (header.length > SIGNATURE_HEADER_CHARS_MAX) return null;
  let timestampSeconds: string | undefined;
  let timestampCount = 0;
  const signatures: string[] = [];
  for (const rawPart of header.split(',')) {
    const part = rawPart.trim();
    const equalsAt = part.indexOf('=');
    const name = equalsAt === -1 ? part : part.slice(0, equalsAt);
    if (name === 't') {
      timestampCount += 1;
      timestampSeconds ??= equalsAt === -1 ? undefined : valueOf(part, equalsAt);
    } else if (name === 'v1' && equalsAt !== -1) {
      const value = valueOf(part, equalsAt);
      if (V1_PATTERN.test(value)) signatures.push(value);
    }
  }
  if (
    timestampCount !== 1 ||
    timestampSeconds === undefined ||
    !/^\d{1,12}$/.test(timestampSeconds)
  )
    return null;
  return signatures.length === 0 ? null : { timestampSeconds, signatures };
};

/** True when one presented v1 value is the HMAC of one configured secret (compared as bytes). */
export const matchesAnySecret = (
  parsed: SignatureHeader,
  secrets: readonly string[],
  rawBody: Buffer,
): boolean => {
  const presented = parsed.signatures.map((hex) => Buffer.from(hex, 'hex'));
  return secrets.some((secret) => {
    const expected = hmacOf(secret, parsed.timestampSeconds, rawBody);
    return presented.some((signature) => timingSafeEqual(signature, expected));
  });
};
