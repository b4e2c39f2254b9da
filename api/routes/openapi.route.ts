import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type Router from '@koa/router';
import type { ApiState } from '../middleware/api-state';

/**
 * GET /v1/openapi.json (public): the OpenAPI 3.1 document (api/openapi.ts). GET /docs: Swagger UI
 * from the installed swagger-ui-dist, served from this process (works offline, no CDN), under a
 * Content-Security-Policy without inline script: the page's own initializer is a file too.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Ledger API (OpenAPI 3.1)</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
    <script src="/docs/swagger-ui-bundle.js" defer></script>
    <script src="/docs/docs.js" defer></script>
  </head>
  <body>
    <div id="swagger-ui"></div>
  </body>
</html>
`;

const INITIALIZER = `'use strict';
window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({ url: '/v1/openapi.json', dom_id: '#swagger-ui' });
});
`;

export const registerOpenApiRoutes = (
  routers: { publicRouter: Router<ApiState>; rootRouter: Router<ApiState> },
  document: () => object,
): void => {
  routers.publicRouter.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = document();
  });
  const dist = dirname(require.resolve('swagger-ui-dist/package.json'));
  // Read once at start: the assets are part of the release, like dist/.
  const files = {
    '/docs': { body: PAGE, type: 'text/html; charset=utf-8' },
    '/docs/docs.js': { body: INITIALIZER, type: 'text/javascript; charset=utf-8' },
    '/docs/swagger-ui.css': {
      body: readFileSync(join(dist, 'swagger-ui.css')),
      type: 'text/css; charset=utf-8',
    },
    '/docs/swagger-ui-bundle.js': {
      body: readFileSync(join(dist, 'swagger-ui-bundle.js')),
      type: 'text/javascript; charset=utf-8',
    },
  };
  for (const [path, { body, type }] of Object.entries(files))
    routers.rootRouter.get(path, (ctx) => {
      ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Cache-Control', 'no-cache');
      ctx.type = type;
      ctx.body = body;
    });
};
