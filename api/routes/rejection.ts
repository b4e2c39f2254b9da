import type { RejectionDetail } from '../../domain/decision';
import type { JsonObject } from '../../domain/ports/event-store.port';
import { sendError } from '../envelope';
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
  const name: ErrorName = rejection in errorCodes ? (rejection as ErrorName) : 'transfer_rejected';
  const field = typeof detail['field'] === 'string' ? `: field '${detail['field']}' differs` : '';
  sendError(ctx, name, { msg: `${errorCodes[name].msg}${field}`, data: { ...detail, ...context } });
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
