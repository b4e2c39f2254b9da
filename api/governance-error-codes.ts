/**
 * Refusals of the API governance layer (rate limits, signed requests, personal data), codes
 * ending 40-49, merged into errorCodes. docs/api.md lists them.
 */
export const governanceErrorCodes = {
  signature_required: {
    status: 401,
    code: 40140,
    msg: 'this client must sign its requests (X-Signature, X-Signature-Timestamp, X-Signature-Nonce)',
  },
  signature_invalid: { status: 401, code: 40141, msg: 'the request signature does not match' },
  signature_expired: {
    status: 401,
    code: 40142,
    msg: 'X-Signature-Timestamp is outside the 300 s window',
  },
  replayed_nonce: {
    status: 401,
    code: 40143,
    msg: 'this X-Signature-Nonce was already used within the window',
  },
  subject_not_found: { status: 404, code: 40440, msg: 'no personal data is held for this subject' },
  subject_erased: {
    status: 422,
    code: 42240,
    msg: "this subject's personal data was erased: no new personal data is kept for it",
  },
  rate_limited: {
    status: 429,
    code: 42940,
    msg: 'too many requests; retry after Retry-After seconds',
  },
  too_many_auth_failures: {
    status: 429,
    code: 42941,
    msg: 'too many failed authentications; retry after Retry-After seconds',
  },
} as const satisfies Record<string, { status: number; code: number; msg: string }>;
