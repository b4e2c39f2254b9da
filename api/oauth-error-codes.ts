/**
 * Errors of OAuth, tokens, scopes and grants (codes ending 50-59), merged into errorCodes. The
 * token endpoint also answers RFC 6749 §5.2's `error` member beside the envelope (oauthError).
 */
type Spec = {
  readonly status: 400 | 401 | 403 | 404 | 409;
  readonly code: number;
  readonly msg: string;
};

export const oauthErrorCodes = {
  invalid_token: {
    status: 401,
    code: 40150,
    msg: 'the access token is invalid, expired or revoked',
  },
  invalid_client: { status: 401, code: 40151, msg: 'client authentication failed' },
  oauth_invalid_request: { status: 400, code: 40050, msg: 'the token request is malformed' },
  unsupported_grant_type: {
    status: 400,
    code: 40051,
    msg: 'grant_type must be client_credentials',
  },
  invalid_scope: {
    status: 400,
    code: 40052,
    msg: 'a requested scope is unknown or not allowed to this client',
  },
  insufficient_scope: { status: 403, code: 40350, msg: 'the credential lacks the scope' },
  grant_not_found: { status: 404, code: 40450, msg: 'no such grant for this client' },
  grant_exists: { status: 409, code: 40950, msg: 'a grant with this grantId already exists' },
} as const satisfies Record<string, Spec>;
