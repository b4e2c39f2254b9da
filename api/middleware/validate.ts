import Ajv from 'ajv';
import type { ErrorObject, JSONSchemaType, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { assert } from '../../domain/assert';
import { sendError } from '../envelope';
import type { RouteMiddleware } from './api-state';

type Where = 'body' | 'query' | 'params';

/** What a validator checks, kept for the OpenAPI document (api/openapi.ts): one source. */
export type ValidatorSpec = { where: Where; schema: object; optional: boolean };
const validatorSpecs = new WeakMap<object, ValidatorSpec>();

/** The spec of a route middleware that is a validator, else undefined. */
export const validatorSpecOf = (middleware: object): ValidatorSpec | undefined =>
  validatorSpecs.get(middleware);

/** Validates one part of the request; read(ctx) returns the checked value to the handler. */
export type Validator<T> = RouteMiddleware & { readonly read: (ctx: object) => T };

const FIELD_CHARS_MAX = 100;

/** Strict: a schema typo (unknown keyword, missing type) throws at startup, not at request time. */
const newAjv = (coerceTypes: boolean): Ajv => {
  const ajv = new Ajv({ strict: true, allErrors: false, coerceTypes });
  addFormats(ajv);
  return ajv;
};

const bodyAjv = newAjv(false);
// Query and path parameters arrive as strings: coercion turns '2' into 2 for integer schemas.
const coercingAjv = newAjv(true);

/**
 * Checks ctx.request.body (set by jsonBody()) against a JSON schema compiled once, when the route
 * is declared. With optional, an absent body passes and read() returns undefined.
 */
export function validateBody<T>(schema: JSONSchemaType<T>): Validator<T>;
export function validateBody<T>(
  schema: JSONSchemaType<T>,
  options: { optional: true },
): Validator<T | undefined>;
export function validateBody<T>(
  schema: JSONSchemaType<T>,
  options: { optional: boolean } = { optional: false },
): Validator<T | undefined> {
  const validate = bodyAjv.compile(schema);
  return described(
    validator('body', validate, (ctx) => ctx.request.body, options.optional),
    { where: 'body', schema, optional: options.optional },
  );
}

const described = <V extends object>(middleware: V, spec: ValidatorSpec): V => {
  validatorSpecs.set(middleware, spec);
  return middleware;
};

/** Checks the query string (coercing strings to the schema's types) into a fresh object. */
export const validateQuery = <T>(schema: JSONSchemaType<T>): Validator<T> =>
  described(
    validator('query', coercingAjv.compile(schema), (ctx) => ({ ...ctx.query }), false),
    { where: 'query', schema, optional: false },
  );

/** Checks the route's path parameters (coercing strings to the schema's types). */
export const validateParams = <T>(schema: JSONSchemaType<T>): Validator<T> =>
  described(
    validator('params', coercingAjv.compile(schema), (ctx) => ({ ...ctx.params }), false),
    { where: 'params', schema, optional: false },
  );

function validator<T>(
  where: Where,
  validate: ValidateFunction<T>,
  select: (ctx: Parameters<RouteMiddleware>[0]) => unknown,
  optional: false,
): Validator<T>;
function validator<T>(
  where: Where,
  validate: ValidateFunction<T>,
  select: (ctx: Parameters<RouteMiddleware>[0]) => unknown,
  optional: boolean,
): Validator<T | undefined>;
function validator<T>(
  where: Where,
  validate: ValidateFunction<T>,
  select: (ctx: Parameters<RouteMiddleware>[0]) => unknown,
  optional: boolean,
): Validator<T | undefined> {
  // Keyed by the request's context: nothing to clean up, nothing shared between requests.
  const checked = new WeakMap<object, { value: T | undefined }>();
  const middleware: RouteMiddleware = async (ctx, next) => {
    const value = select(ctx);
    if (optional && value === undefined) {
      checked.set(ctx, { value: undefined });
    } else if (validate(value)) {
      checked.set(ctx, { value });
    } else {
      const { msg, field } = describeFirstError(where, validate.errors ?? []);
      sendError(ctx, 'invalid_request', { msg, data: { field } });
      return;
    }
    await next();
  };
  const read = (ctx: object): T | undefined => {
    const entry = checked.get(ctx);
    assert(entry !== undefined, `handler reads the ${where} before its validator ran`);
    return entry.value;
  };
  return Object.assign(middleware, { read });
}

/** E.g. "body.amountMinor must be integer", "body has unknown field 'foo'". */
const describeFirstError = (
  where: Where,
  errors: readonly ErrorObject[],
): { msg: string; field: string } => {
  const error = errors[0];
  if (error === undefined) return { msg: `${where} is invalid`, field: where };
  const path = pointerToPath(error.instancePath);
  const at = path === '' ? where : `${where}.${path}`;
  const { params } = error;
  const additional: unknown = params['additionalProperty'];
  if (error.keyword === 'additionalProperties' && typeof additional === 'string') {
    const unknown = additional.slice(0, FIELD_CHARS_MAX);
    return { msg: `${at} has unknown field '${unknown}'`, field: joinPath(path, unknown) };
  }
  if (error.keyword === 'required' && typeof params['missingProperty'] === 'string') {
    const field = joinPath(path, params['missingProperty']);
    return { msg: `${where}.${field} is required`, field };
  }
  return { msg: `${at} ${error.message ?? 'is invalid'}`, field: path === '' ? where : path };
};

/** '/payer/accountId' → 'payer.accountId' (JSON-pointer escapes undone). */
const pointerToPath = (pointer: string): string =>
  pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');

const joinPath = (path: string, field: string): string =>
  path === '' ? field : `${path}.${field}`;

/** A check of one part of a body (a batch's item): its value, or the first error described. */
export const compileBodyCheck = <T>(
  schema: JSONSchemaType<T>,
): ((value: unknown) => { ok: true; value: T } | { ok: false; msg: string; field: string }) => {
  const validate = bodyAjv.compile(schema);
  return (value) =>
    validate(value)
      ? { ok: true, value }
      : { ok: false, ...describeFirstError('body', validate.errors ?? []) };
};
