import type { RejectionDetail } from '../../domain/decision';
import { sendError } from '../envelope';
import { errorCodes, type ErrorName } from '../error-codes';

/** Answers with a domain rejection's status and code; data carries the detail and context. */
export const sendRejection = (
  ctx: Parameters<typeof sendError>[0],
  rejection: string,
  detail: RejectionDetail,
  context: Readonly<Record<string, unknown>> = {},
): void => {
  const name: ErrorName = rejection in errorCodes ? (rejection as ErrorName) : 'transfer_rejected';
  const field = typeof detail['field'] === 'string' ? `: field '${detail['field']}' differs` : '';
  sendError(ctx, name, { msg: `${errorCodes[name].msg}${field}`, data: { ...detail, ...context } });
};
