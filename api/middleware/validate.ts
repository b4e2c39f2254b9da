import Ajv from 'ajv';
import type { ErrorObject, JSONSchemaType, SchemaObject, ValidateFunction } from 'ajv';
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
 * The schema as checked: null refused everywhere. ajv's JSONSchemaType marks every optional
 * property `nullable: true`, so as written null would pass each of them and reach the handler as a
 * value its type does not hold. Only the top-level properties named in nullAllowed keep
 * `nullable`: those where null means something of its own (a risk rule turned off).
 */
const refusingNull = (schema: object, nullAllowed: readonly string[]): SchemaObject => {
  const refused = withoutNullable(schema) as SchemaObject;
  const properties = refused['properties'] as Record<string, SchemaObject> | undefined;
  for (const field of nullAllowed) {
    const original = (schema as { properties?: Record<string, { nullable?: unknown }> })
      .properties?.[field];
    assert(original?.nullable === true, `nullAllowed names '${field}', not a nullable property`);
    assert(properties?.[field] !== undefined, `nullAllowed names '${field}', not a property`);
    properties[field] = { ...properties[field], nullable: true };
  }
  return refused;
};

/** Keywords whose values are data or names, not schemas: copied as they are. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'required', 'default', 'examples']);

const withoutNullable = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(withoutNullable);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable') continue;
    if (key === 'properties' && typeof value === 'object' && value !== null)
      copy[key] = Object.fromEntries(
        Object.entries(value).map(([name, property]) => [name, withoutNullable(property)]),
      );
    else copy[key] = DATA_KEYWORDS.has(key) ? value : withoutNullable(value);
  }
  return copy;
};

type BodyOptions<T> = {
  /** An absent body passes and read() returns undefined. */
  optional?: boolean;
  /** Top-level fields where null is a value of its own (documented so); else null is refused. */
  nullAllowed?: readonly (keyof T & string)[];
  /**
   * For large bodies, a hand-written check that accepts nothing the schema refuses: when it
   * passes, ajv is skipped; when it fails, ajv runs and names the problem (the same 400s).
   */
  fastCheck?: (value: unknown) => value is T;
};

/**
 * Checks ctx.request.body (set by jsonBody()) against a JSON schema compiled once, when the route
 * is declared. A field set to null is refused (400 `body.<field> must not be null`) unless named
 * in nullAllowed; with optional, an absent body passes and read() returns undefined.
 */
export function validateBody<T>(
  schema: JSONSchemaType<T>,
  options?: BodyOptions<T> & { optional?: false },
): Validator<T>;
export function validateBody<T>(
  schema: JSONSchemaType<T>,
  options: BodyOptions<T> & { optional: true },
): Validator<T | undefined>;
export function validateBody<T>(
  schema: JSONSchemaType<T>,
  options: BodyOptions<T> = {},
): Validator<T | undefined> {
  const optional = options.optional ?? false;
  const checked = refusingNull(schema, options.nullAllowed ?? []);
  const validate = bodyAjv.compile<T>(checked);
  return described(
    validator('body', validate, (ctx) => ctx.request.body, optional, options.fastCheck),
    {
      where: 'body',
      schema: checked,
      optional,
    },
  );
}

const described = <V extends object>(middleware: V, spec: ValidatorSpec): V => {
  validatorSpecs.set(middleware, spec);
  return middleware;
};

/**
 * Checks the query string (coercing strings to the schema's types) into a fresh object. A query
 * parameter is absent or a value: with null refused, `?page_size=` is not coerced to null but
 * refused (400 `query.page_size must be integer`).
 */
export const validateQuery = <T>(schema: JSONSchemaType<T>): Validator<T> => {
  const checked = refusingNull(schema, []);
  return described(
    validator('query', coercingAjv.compile<T>(checked), (ctx) => ({ ...ctx.query }), false),
    { where: 'query', schema: checked, optional: false },
  );
};

/** Checks the route's path parameters (coercing strings to the schema's types). */
export const validateParams = <T>(schema: JSONSchemaType<T>): Validator<T> => {
  const checked = refusingNull(schema, []);
  return described(
    validator('params', coercingAjv.compile<T>(checked), (ctx) => ({ ...ctx.params }), false),
    { where: 'params', schema: checked, optional: false },
  );
};

function validator<T>(
  where: Where,
  validate: ValidateFunction<T>,
  select: (ctx: Parameters<RouteMiddleware>[0]) => unknown,
  optional: false,
  fastCheck?: (value: unknown) => value is T,
): Validator<T>;
function validator<T>(
  where: Where,
  validate: ValidateFunction<T>,
  select: (ctx: Parameters<RouteMiddleware>[0]) => unknown,
  optional: boolean,
  fastCheck?: (value: unknown) => value is T,
): Validator<T | undefined>;
function validator<T>(
  where: Where,
  validate: ValidateFunction<T>,
  select: (ctx: Parameters<RouteMiddleware>[0]) => unknown,
  optional: boolean,
  fastCheck?: (value: unknown) => value is T,
): Validator<T | undefined> {
  // Keyed by the request's context: nothing to clean up, nothing shared between requests.
  const checked = new WeakMap<object, { value: T | undefined }>();
  const middleware: RouteMiddleware = async (ctx, next) => {
    const value = select(ctx);
    if (optional && value === undefined) {
      checked.set(ctx, { value: undefined });
    } else if (fastCheck !== undefined && fastCheck(value)) {
      checked.set(ctx, { value });
    } else if (validate(value)) {
      checked.set(ctx, { value });
    } else {
      const { msg, field } = describeFirstError(where, validate.errors ?? [], value);
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

/**
 * E.g. "body.amountMinor must be integer", "body has unknown field 'foo'", "body.level must not be
 * null" (a type error on a null value: that is what ajv reports for a null where none is allowed).
 */
const describeFirstError = (
  where: Where,
  errors: readonly ErrorObject[],
  value: unknown,
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
  const field = path === '' ? where : path;
  if (error.keyword === 'type' && valueAt(value, error.instancePath) === null)
    return { msg: `${at} must not be null`, field };
  return { msg: `${at} ${error.message ?? 'is invalid'}`, field };
};

/** The value at a JSON pointer of ajv's instancePath ('' is the whole value). */
const valueAt = (value: unknown, pointer: string): unknown =>
  pointerSegments(pointer).reduce<unknown>(
    (at, segment) => (typeof at === 'object' && at !== null ? Reflect.get(at, segment) : undefined),
    value,
  );

/** '/payer/accountId' → ['payer', 'accountId'] (JSON-pointer escapes undone). */
const pointerSegments = (pointer: string): string[] =>
  pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));

/** '/payer/accountId' → 'payer.accountId'. */
const pointerToPath = (pointer: string): string => pointerSegments(pointer).join('.');

const joinPath = (path: string, field: string): string =>
  path === '' ? field : `${path}.${field}`;

/** A check of one part of a body (a batch's item): its value, or the first error described. */
export const compileBodyCheck = <T>(
  schema: JSONSchemaType<T>,
): ((value: unknown) => { ok: true; value: T } | { ok: false; msg: string; field: string }) => {
  const validate = bodyAjv.compile<T>(refusingNull(schema, []));
  return (value) =>
    validate(value)
      ? { ok: true, value }
      : { ok: false, ...describeFirstError('body', validate.errors ?? [], value) };
};
