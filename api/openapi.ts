import { errorCodes } from './error-codes';
import { SCOPE_TABLE, SCOPES, isScope, type Scope } from '../domain/auth/scopes';
import { validatorSpecOf, type ValidatorSpec } from './middleware/validate';

/**
 * The OpenAPI 3.1 document, generated at start from the routers themselves: every layer of every
 * router is an operation; its parameters and request body are the very ajv schemas its
 * validators check (validatorSpecOf), its scope that of its requireScope (read off the middleware).
 * So a route cannot exist without being documented, nor be documented with another schema.
 *
 * Security, on every route that authenticates: `apiKey` (HTTP bearer with an API key, or the
 * X-Api-Key header; the client's role gives its scopes) or `oauth2` (an access token from the
 * client-credentials flow carrying the route's scope).
 */
type JsonSchema = { [key: string]: unknown };
type Operation = { [key: string]: unknown };

/** A router and whether its routes need a credential (the authenticated /v1 router) or not. */
type DocumentedRouter = {
  /** A @koa/router Router: its layers are read (path, methods, middleware stack). */
  router: { readonly stack: readonly object[] };
  /** True: every route authenticates; a function: per route (the root router mixes both). */
  authenticated: boolean | ((layerStack: readonly object[]) => boolean);
};

type Layer = { path: string; methods: string[]; stack: readonly object[] };

const SECURITY_SCHEMES = {
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key bound to a client and its role (admin, merchant, node, auditor): ' +
      '`Authorization: Bearer <key>` (or the `X-Api-Key` header).',
  },
  oauth2: {
    type: 'oauth2',
    description: 'An access token (RFC 9068 JWT) from the client-credentials grant.',
    flows: {
      clientCredentials: {
        tokenUrl: '/v1/oauth/token',
        scopes: Object.fromEntries(SCOPES.map((scope) => [scope, SCOPE_TABLE[scope].meaning])),
      },
    },
  },
} as const;

/** The scope a requireScope() middleware checks (it carries it as `scope`). */
const scopeOf = (middleware: object): Scope[] => {
  const scope: unknown = Reflect.get(middleware, 'scope');
  return typeof scope === 'string' && isScope(scope) ? [scope] : [];
};

/**
 * ajv's `nullable: true` is OpenAPI 3.0; 3.1 is JSON Schema 2020-12: a type array with null. The
 * validators' schemas keep `nullable` only where null is accepted (validateBody's nullAllowed).
 */
const toJsonSchema2020 = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(toJsonSchema2020);
  if (typeof schema !== 'object' || schema === null) return schema;
  const { nullable, ...rest } = schema as JsonSchema;
  const converted: JsonSchema = {};
  for (const [key, value] of Object.entries(rest))
    converted[key] =
      key === 'enum' || key === 'const' || key === 'required' ? value : toJsonSchema2020(value);
  if (nullable === true && typeof converted['type'] === 'string')
    converted['type'] = [converted['type'], 'null'];
  return converted;
};

const pathOf = (koaPath: string): string => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const pathParameterNames = (koaPath: string): string[] =>
  [...koaPath.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1] as string);

const propertiesOf = (schema: object): [string, unknown][] =>
  Object.entries((schema as { properties?: Record<string, unknown> }).properties ?? {});

const requiredOf = (schema: object): readonly string[] =>
  (schema as { required?: string[] }).required ?? [];

const parametersOf = (koaPath: string, specs: readonly ValidatorSpec[]) => {
  const parameters: Operation[] = [];
  const params = specs.find((spec) => spec.where === 'params');
  const documented = new Map(params === undefined ? [] : propertiesOf(params.schema));
  for (const name of pathParameterNames(koaPath))
    parameters.push({
      name,
      in: 'path',
      required: true,
      schema: toJsonSchema2020(documented.get(name) ?? { type: 'string' }),
    });
  for (const spec of specs.filter((candidate) => candidate.where === 'query'))
    for (const [name, schema] of propertiesOf(spec.schema)) {
      parameters.push({
        name,
        in: 'query',
        required: requiredOf(spec.schema).includes(name),
        schema: toJsonSchema2020(schema),
      });
    }
  return parameters;
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
});

const operationOf = (layer: Layer, method: string, authenticated: boolean): Operation => {
  const specs = layer.stack.flatMap((middleware) => validatorSpecOf(middleware) ?? []);
  const scopes = [...new Set(layer.stack.flatMap(scopeOf))];
  const body = specs.find((spec) => spec.where === 'body');
  const segment = layer.path.split('/').filter((part) => part !== '' && part !== 'v1')[0];
  const operation: Operation = {
    operationId: `${method}${layer.path.replace(/[^A-Za-z0-9]+/g, '_')}`,
    tags: [segment ?? 'root'],
    summary: `${method.toUpperCase()} ${pathOf(layer.path)}`,
    parameters: parametersOf(layer.path, specs),
    security: authenticated ? [{ apiKey: [] }, { oauth2: scopes }] : [],
    responses: {
      '2XX': {
        description: 'Success: the envelope with code 0 and the data',
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/SuccessEnvelope' } },
        },
      },
      ...(specs.length > 0 ? { '400': errorResponse('Invalid request, naming the field') } : {}),
      ...(authenticated ? { '401': errorResponse('No or unknown credential') } : {}),
      ...(scopes.length > 0 ? { '403': errorResponse('The credential lacks the scope') } : {}),
      '503': errorResponse('Overloaded, draining or a backing service unavailable'),
      default: errorResponse('Any other error: see the error code table'),
    },
  };
  if (scopes.length > 0) {
    const roles = [...new Set(scopes.flatMap((scope) => SCOPE_TABLE[scope].roles))];
    operation['x-scopes'] = scopes;
    operation['description'] =
      `Scope: ${scopes.join(', ')} (held by default by ${roles.join(', ')}).`;
  }
  if (body !== undefined)
    operation['requestBody'] = {
      required: !body.optional,
      content: { 'application/json': { schema: toJsonSchema2020(body.schema) } },
    };
  return operation;
};

const errorEnvelopeSchema = () => {
  const table = Object.entries(errorCodes)
    .map(([name, spec]) => `| ${spec.code} | ${spec.status} | \`${name}\` | ${spec.msg} |`)
    .join('\n');
  return {
    type: 'object',
    required: ['code', 'msg', 'data'],
    properties: {
      code: {
        type: 'integer',
        enum: [...new Set(Object.values(errorCodes).map((spec) => spec.code))],
        description: `A stable error code:\n\n| code | HTTP | name | message |\n|---|---|---|---|\n${table}`,
      },
      msg: { type: 'string', description: 'What is wrong, naming the field or rule' },
      data: { description: 'Details, e.g. { field }' },
    },
  };
};

/** Every route of the routers (HEAD, added by koa-router beside GET, left out). */
const routesOf = (router: DocumentedRouter['router']) =>
  (router.stack as readonly Layer[]).flatMap((layer) =>
    layer.methods
      .filter((method) => method !== 'HEAD')
      .map((method) => ({ method: method.toLowerCase(), path: layer.path, layer })),
  );

export const buildOpenApiDocument = (
  routers: readonly DocumentedRouter[],
  info: { title: string; version: string },
) => {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const { router, authenticated } of routers)
    for (const { method, path, layer } of routesOf(router)) {
      const secured =
        typeof authenticated === 'function' ? authenticated(layer.stack) : authenticated;
      const operations = (paths[pathOf(path)] ??= {});
      operations[method] = operationOf(layer, method, secured);
    }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Generated at start from the ajv schemas the routes validate with. Every answer is the ' +
        'envelope { code, msg, data }: code 0 on success, else a stable error code.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: SECURITY_SCHEMES,
      schemas: {
        SuccessEnvelope: {
          type: 'object',
          required: ['code', 'msg', 'data'],
          properties: { code: { const: 0 }, msg: { type: 'string' }, data: {} },
        },
        ErrorEnvelope: errorEnvelopeSchema(),
      },
    },
  };
};
