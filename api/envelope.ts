import type { ParameterizedContext } from 'koa';
import { errorCodes } from './error-codes';
import type { ErrorName } from './error-codes';

/** Every JSON response: code 0 on success, else the stable code of error-codes.ts. */
export type Envelope = { code: number; msg: string; data: unknown };

/** Details that help a client fix its request, e.g. { field: 'amountMinor' }. */
type ErrorData = Readonly<Record<string, unknown>>;

type ErrorOptions = { msg?: string; data?: ErrorData };

/** What an error becomes on the wire; also what the idempotency store keeps for a replay. */
export type ErrorResponse = {
  status: number;
  body: Envelope;
  headers: Readonly<Record<string, string>>;
};

type ResponseTarget = Pick<ParameterizedContext, 'body' | 'status' | 'set'>;

export const okEnvelope = (data: unknown): Envelope => ({ code: 0, msg: 'ok', data });

/** Answers with the success envelope; the status defaults to 200. */
export const sendOk = (ctx: ResponseTarget, data: unknown, status = 200): void => {
  ctx.body = okEnvelope(data);
  ctx.status = status;
};

export const errorResponse = (
  name: ErrorName,
  options: ErrorOptions = {},
  headers: Readonly<Record<string, string>> = {},
): ErrorResponse => {
  const spec = errorCodes[name];
  const body = { code: spec.code, msg: options.msg ?? spec.msg, data: options.data ?? null };
  return { status: spec.status, body, headers };
};

/** Sends a prepared response: an ErrorResponse, or a stored one being replayed. */
export const sendResponse = (
  ctx: ResponseTarget,
  response: { status: number; body: unknown; headers: Readonly<Record<string, string>> },
): void => {
  ctx.body = response.body; // Body before status: Koa turns a later null body into a 204.
  ctx.status = response.status;
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
};

/** Answers with the error envelope of `name`, optionally with a sharper msg and data. */
export const sendError = (ctx: ResponseTarget, name: ErrorName, options: ErrorOptions = {}): void =>
  sendResponse(ctx, errorResponse(name, options));

/**
 * Thrown where returning is awkward (deep in a handler); the error middleware answers with the
 * named error. Its msg and data are exposed to the client, so they must be safe to show.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly errorName: ErrorName;
  readonly options: ErrorOptions;

  constructor(errorName: ErrorName, options: ErrorOptions = {}, cause?: unknown) {
    super(options.msg ?? errorCodes[errorName].msg, { cause });
    this.errorName = errorName;
    this.options = options;
  }
}
