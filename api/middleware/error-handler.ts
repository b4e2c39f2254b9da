import type { Logger } from 'winston';
import { ApiError, errorResponse, sendResponse } from '../envelope';
import type { ErrorResponse } from '../envelope';
import type { ErrorName } from '../error-codes';
import { serviceMetrics } from '../metrics';
import type { AppMiddleware } from './api-state';

/** How a thrown error is answered, and whether it was a known kind (else: a bug, logged loudly). */
type ThrownDescription = { response: ErrorResponse; known: boolean };

const RETRY_AFTER_S_DEFAULT = 1;

/** 4xx statuses that Koa, raw-body or a library may throw as HttpErrors (messages not echoed). */
const httpStatusNames: Readonly<Record<number, ErrorName>> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * Maps by error.name rather than by class: the runtime's errors (MailboxFullError, ...) live in
 * modules this layer must not depend on. Pure, so that the idempotency middleware stores exactly
 * what the error middleware will send.
 */
export const describeThrown = (error: unknown): ThrownDescription => {
  if (error instanceof ApiError) {
    return { response: errorResponse(error.errorName, error.options), known: true };
  }
  const name = error instanceof Error ? error.name : '';
  if (name === 'MailboxFullError') {
    const headers = { 'retry-after': retryAfterSeconds(error) };
    return { response: errorResponse('overloaded', {}, headers), known: true };
  }
  if (name === 'ConflictRetriesExhaustedError') {
    return { response: errorResponse('version_conflict'), known: true };
  }
  if (name === 'UnavailableError') {
    // A backing service that failed (a full disk, an unreachable store) may be back any moment:
    // the smallest hint HTTP can express, so that clients back off instead of hammering it.
    const headers = { 'retry-after': '1' };
    return { response: errorResponse('unavailable', {}, headers), known: true };
  }
  const status = exposedClientStatus(error);
  const statusName = status === null ? undefined : httpStatusNames[status];
  if (statusName !== undefined) return { response: errorResponse(statusName), known: true };
  return { response: errorResponse('internal_error'), known: false };
};

/** Errors that refuse a request to protect the service, as ledger_requests_refused_total counts them. */
const REFUSALS_BY_ERROR_NAME = new Map([
  ['MailboxFullError', 'overloaded'],
  ['UnavailableError', 'unavailable'],
]);

/**
 * Outermost middleware that can see errors: answers every thrown error with the envelope, never
 * with error.message; the detail goes to the log with the requestId.
 */
export const errorHandler =
  (logger: Logger): AppMiddleware =>
  async (ctx, next) => {
    try {
      await next();
    } catch (error: unknown) {
      const { response, known } = describeThrown(error);
      const refusal = REFUSALS_BY_ERROR_NAME.get(error instanceof Error ? error.name : '');
      if (refusal !== undefined) serviceMetrics().refusals.inc({ reason: refusal });
      const fields = { requestId: ctx.state.requestId, error: serializeError(error) };
      if (known) logger.warn('request_refused', { ...fields, status: response.status });
      else logger.error('request_failed', fields);
      sendResponse(ctx, response);
    }
  };

const retryAfterSeconds = (error: unknown): string => {
  const retryAfterMs = fieldOf(error, 'retryAfterMs');
  if (typeof retryAfterMs !== 'number' || !Number.isFinite(retryAfterMs) || retryAfterMs <= 0) {
    return String(RETRY_AFTER_S_DEFAULT);
  }
  return String(Math.ceil(retryAfterMs / 1000));
};

/** The status of an http-errors style error meant for the client (expose: true, 4xx). */
const exposedClientStatus = (error: unknown): number | null => {
  const status = fieldOf(error, 'status');
  if (typeof status !== 'number' || fieldOf(error, 'expose') !== true) return null;
  return status >= 400 && status < 500 ? status : null;
};

const fieldOf = (value: unknown, field: string): unknown =>
  typeof value === 'object' && value !== null && field in value
    ? (value as Record<string, unknown>)[field]
    : undefined;

const serializeError = (error: unknown): Record<string, unknown> => {
  if (!(error instanceof Error)) return { thrown: String(error) };
  const cause = error.cause === undefined ? {} : { cause: serializeError(error.cause) };
  return { name: error.name, message: error.message, stack: error.stack, ...cause };
};
