import { createHash, createHmac } from 'node:crypto';

/** Signed requests: a timestamp more than this far from the server's clock is refused. */
export const SIGNATURE_WINDOW_S = 300;

type SignedParts = {
  method: string;
  /** The request path as sent, without the query (e.g. /v1/transfers). */
  path: string;
  /** The query string as sent, without '?' ('' when none). */
  query: string;
  /** Unix time in seconds, as sent in X-Signature-Timestamp. */
  timestampS: string;
  nonce: string;
  body: Buffer;
};

/** The query's '&'-separated parameters, as sent (no decoding), sorted by byte order. */
const canonicalQuery = (query: string): string =>
  query
    .split('&')
    .filter((parameter) => parameter !== '')
    .sort((left, right) => Buffer.compare(Buffer.from(left), Buffer.from(right)))
    .join('&');

/**
 * The string to sign (docs/api.md "Signed requests"): seven lines joined with '\n', no trailing
 * newline: `v1`, the method in capitals, the path, the canonical query, the timestamp, the nonce,
 * and the SHA-256 hex of the raw body (of zero bytes when there is none).
 */
export const stringToSign = (parts: SignedParts): string =>
  [
    'v1',
    parts.method.toUpperCase(),
    parts.path,
    canonicalQuery(parts.query),
    parts.timestampS,
    parts.nonce,
    createHash('sha256').update(parts.body).digest('hex'),
  ].join('\n');

/** HMAC-SHA256 hex of the string to sign under the secret's UTF-8 bytes. */
export const signRequest = (secret: string, parts: SignedParts): string =>
  createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(stringToSign(parts), 'utf8')
    .digest('hex');
