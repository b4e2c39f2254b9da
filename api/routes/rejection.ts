import type { RejectionDetail } from '../../domain/decision';
import type { JsonObject } from '../../domain/ports/event-store.port';
import { errorResponse, sendResponse, type ErrorResponse, type sendError } from '../envelope';
import { errorCodes, type ErrorName } from '../error-codes';
import type { ApiState } from '../middleware/api-state';
import { securityAuditOf } from './ledger-services';

/** Context values that are plain ids or numbers; anything else stays out of the audit record. */
const scalarsOf = (context: Readonly<Record<string, unknown>>): JsonObject =>
  Object.fromEntries(
    Object.entries(context).filter(
      ([, value]) => typeof value === 'string' || typeof value === 'number',
    ),
  ) as JsonObject;

const errorNameOf = (rejection: string): ErrorName =>
  rejection in errorCodes ? (rejection as ErrorName) : 'transfer_rejected';

/** A domain rejection's answer: its status and code; data carries the detail and context. */
export const rejectionResponse = (
  rejection: string,
  detail: RejectionDetail,
  context: Readonly<Record<string, unknown>> = {},
): ErrorResponse => {
  const name = errorNameOf(rejection);
  const field = typeof detail['field'] === 'string' ? `: field '${detail['field']}' differs` : '';
  const msg = `${errorCodes[name].msg}${field}`;
  return errorResponse(name, { msg, data: { ...detail, ...context } });
};

/**
 * Answers with a domain rejection's status and code; data carries the detail and context. Every
 * rejection is also reported as a `rejected_command` audit fact (bounded, never awaited).
 */
export const sendRejection = (
  ctx: Parameters<typeof sendError>[0],
  rejection: string,
  detail: RejectionDetail,
  context: Readonly<Record<string, unknown>> = {},
): void => {
  sendResponse(ctx, rejectionResponse(rejection, detail, context));
  reportRejection(ctx, rejection, context);
};

/** Reports a rejection sent by other means (a ledger answer) as a `rejected_command` fact. */
export const reportRejection = (
  ctx: Parameters<typeof sendError>[0],
  rejection: string,
  context: Readonly<Record<string, unknown>> = {},
): void => {
  const name = errorNameOf(rejection);
  const { state, method, path } = ctx as {
    state?: Partial<ApiState>;
    method?: string;
    path?: string;
  };
  securityAuditOf(ctx)?.report('rejected_command', state?.client?.clientId ?? null, {
    rejection,
    code: errorCodes[name].code,
    method: method ?? null,
    path: path ?? null,
    requestId: state?.requestId ?? null,
    ...scalarsOf(context),
  });
};
