/**
 * Every error the API answers with: a snake_case name, the HTTP status, a stable numeric `code`
 * and a default message. Codes are status * 100 + n (40001, 40002, ...), never reused.
 *
 * Codes 70000-79999 are reserved for risk control (a rule refusing a request for fraud, velocity
 * or limits); they are the only codes not derived from their status, which the rule picks
 * (usually 403 or 429). Domain rejections (insufficient_funds 422, refund_exceeds_paid 422, ...)
 * live in domain-error-codes.ts and are merged below. docs/api.md lists the codes for clients.
 *
 * A 503 (overloaded, unavailable) means the command did not complete: the idempotency middleware
 * releases the key so that the client retries with it, and the command's own id makes the retry
 * finish what was started instead of repeating it.
 */
import { channelErrorCodes, domainErrorCodes } from './domain-error-codes';
import { paymentChannelErrorCodes } from './channel-error-codes';
import { readSideErrorCodes } from './read-side-error-codes';
import { governanceErrorCodes } from './governance-error-codes';
import { saleErrorCodes } from './sale-error-codes';
import { sagaErrorCodes } from './saga-error-codes';
import { nodeErrorCodes } from './node-error-codes';
import { webhookErrorCodes } from './webhook-error-codes';
import { oauthErrorCodes } from './oauth-error-codes';
import { modeErrorCodes } from './mode-error-codes';

type ErrorSpec = { readonly status: number; readonly code: number; readonly msg: string };

const genericErrorCodes = {
  invalid_request: { status: 400, code: 40001, msg: 'the request is invalid' },
  malformed_json: { status: 400, code: 40002, msg: 'the body is not valid JSON' },
  idempotency_key_missing: {
    status: 400,
    code: 40003,
    msg: 'the Idempotency-Key header is required',
  },
  idempotency_key_invalid: {
    status: 400,
    code: 40004,
    msg: 'the Idempotency-Key header must be 1-255 printable ASCII characters',
  },
  unauthenticated: { status: 401, code: 40101, msg: 'a valid API key is required' },
  forbidden: { status: 403, code: 40301, msg: 'this client may not do that' },
  not_found: { status: 404, code: 40401, msg: 'no such resource' },
  route_not_found: { status: 404, code: 40402, msg: 'no such route' },
  method_not_allowed: { status: 405, code: 40501, msg: 'method not allowed on this route' },
  version_conflict: {
    status: 409,
    code: 40901,
    msg: 'the resource kept changing concurrently; retry the request',
  },
  idempotency_key_in_flight: {
    status: 409,
    code: 40902,
    msg: 'a request with this Idempotency-Key is still being processed',
  },
  client_exists: { status: 409, code: 40903, msg: 'a client with this clientId already exists' },
  payload_too_large: { status: 413, code: 41301, msg: 'the body is too large' },
  unsupported_media_type: {
    status: 415,
    code: 41501,
    msg: 'the body must be application/json in UTF-8',
  },
  idempotency_key_reused: {
    status: 422,
    code: 42201,
    msg: 'this Idempotency-Key was used with a different request',
  },
  internal_error: { status: 500, code: 50001, msg: 'internal error' },
  overloaded: { status: 503, code: 50301, msg: 'the service is overloaded; retry later' },
  unavailable: { status: 503, code: 50302, msg: 'a backing service is unavailable; retry later' },
  draining: {
    status: 503,
    code: 50303,
    msg: 'the service is shutting down; retry on a new connection',
  },
  not_ready: { status: 503, code: 50304, msg: 'not ready: a readiness check failed' },
} as const satisfies Record<string, ErrorSpec>;

/** The one table: generic entries, then the deciders' rejections and the channels' refusals. */
export const errorCodes = {
  ...genericErrorCodes,
  ...domainErrorCodes,
  ...channelErrorCodes,
  ...readSideErrorCodes,
  ...governanceErrorCodes,
  ...sagaErrorCodes,
  ...paymentChannelErrorCodes,
  ...saleErrorCodes,
  ...nodeErrorCodes,
  ...webhookErrorCodes,
  ...oauthErrorCodes,
  ...modeErrorCodes,
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof errorCodes;

export const RISK_CONTROL_CODE_MIN = 70000;
export const RISK_CONTROL_CODE_MAX = 79999;
