import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';

/**
 * The OpenAPI 3.1 document (GET /v1/openapi.json), generated from the routers: valid for a real
 * OpenAPI validator, and holding every route the app registered (read here from the routers'
 * layers, independently of the generator).
 */
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { securitySchemes: Record<string, unknown> };
};

/** @seriousme/openapi-schema-validator is an ES module: it runs in a node process of its own. */
const validateWithOpenApiValidator = (document: Document): { valid: boolean; errors?: unknown } => {
  const validator = pathToFileURL(require.resolve('@seriousme/openapi-schema-validator')).href;
  const script = `
    import { Validator } from ${JSON.stringify(validator)};
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const result = await new Validator().validate(JSON.parse(text));
    process.stdout.write(JSON.stringify(result));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    input: JSON.stringify(document),
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as { valid: boolean; errors?: unknown };
};

type Layer = { path: string; methods: string[] };

/** Every (method, path) of every router mounted on the app, HEAD left out. */
const registeredRoutes = (app: LedgerApp['app']): { method: string; path: string }[] =>
  app.middleware.flatMap((middleware) => {
    const { router } = middleware as { router?: { stack: Layer[] } };
    if (router === undefined) return [];
    return router.stack.flatMap((layer) =>
      layer.methods
        .filter((method) => method !== 'HEAD')
        .map((method) => ({
          method: method.toLowerCase(),
          path: layer.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
        })),
    );
  });

const missingFrom = (document: Document, routes: { method: string; path: string }[]) =>
  routes.filter(({ method, path }) => document.paths[path]?.[method] === undefined);

describe('the OpenAPI 3.1 document', () => {
  let app: LedgerApp;
  let document: Document;
  beforeAll(async () => {
    app = await createLedgerApp();
    const response = await app.http().get('/v1/openapi.json'); // Public: no key.
    expect(response.status).toBe(200);
    document = response.body as Document;
  });
  afterAll(() => app.store.close());

  it('is valid OpenAPI 3.1 for a real validator', () => {
    expect(document.openapi).toBe('3.1.0');
    const result = validateWithOpenApiValidator(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('holds every route the app registered, and the check notices one left out', () => {
    const routes = registeredRoutes(app.app);
    expect(routes.length).toBeGreaterThan(20);
    expect(routes).toContainEqual({ method: 'post', path: '/v1/transfers' });
    expect(missingFrom(document, routes)).toEqual([]);
    const withoutTransfers = { ...document, paths: { ...document.paths } };
    delete withoutTransfers.paths['/v1/transfers'];
    expect(missingFrom(withoutTransfers, routes)).toContainEqual({
      method: 'post',
      path: '/v1/transfers',
    });
  });

  it('documents bodies, parameters, roles, security and errors from the routes themselves', () => {
    const createTransfer = document.paths['/v1/transfers']?.['post'] as {
      requestBody: { content: { 'application/json': { schema: Record<string, unknown> } } };
      security: unknown;
      responses: Record<string, unknown>;
    };
    const body = createTransfer.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({
      type: 'object',
      additionalProperties: false,
      properties: { amountMinor: { type: 'integer', minimum: 1 } },
    });
    expect(body['required']).toEqual(expect.arrayContaining(['transferId', 'amountMinor']));
    expect(createTransfer.security).toEqual([{ apiKey: [] }, { oauth2: ['transfers:write'] }]);
    expect(Object.keys(createTransfer.responses)).toEqual(
      expect.arrayContaining(['2XX', '400', '401', 'default']),
    );
    const getAccount = document.paths['/v1/accounts/{accountId}']?.['get'] as {
      parameters: { name: string; in: string; required: boolean }[];
    };
    expect(getAccount.parameters).toContainEqual(
      expect.objectContaining({ name: 'accountId', in: 'path', required: true }),
    );
    const callback = Object.entries(document.paths).find(([path]) => path.includes('callbacks'));
    expect(Object.values(callback?.[1] ?? {})[0]).toMatchObject({ security: [] });
    expect(document.components.securitySchemes).toHaveProperty('apiKey');
    expect(document.components.securitySchemes).toHaveProperty(
      'oauth2.flows.clientCredentials.tokenUrl',
      '/v1/oauth/token',
    );
    const clients = document.paths['/v1/clients']?.['post'];
    expect(clients).toMatchObject({
      'x-scopes': ['clients:admin'],
      security: [{ apiKey: [] }, { oauth2: ['clients:admin'] }],
    });
  });

  it('serves a docs page that works offline under a strict CSP', async () => {
    const page = await app.http().get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.text).toContain('/docs/swagger-ui-bundle.js');
    expect(page.text).not.toMatch(/https?:\/\//);
    for (const asset of ['/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css', '/docs/docs.js']) {
      const response = await app.http().get(asset);
      expect(response.status).toBe(200);
    }
  });
});
