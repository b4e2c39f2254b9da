import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type Router from '@koa/router';
import type { ApiState } from '../middleware/api-state';

/**
 * GET /console: the auditor console, three static files from the repository's api/console/ folder
 * (plain HTML, CSS and JS: nothing to build). The page itself is public; every call it makes is
 * to /v1 with the API key the auditor types. A strict Content-Security-Policy: only this origin's
 * script, style and API, no inline code, no framing.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FILES = {
  '/console': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
} as const;

/** api/console/ under the package root: found from api/routes and from dist/api/routes alike. */
const consoleDir = (): string => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'api', 'console', 'index.html'))) return join(dir, 'api', 'console');
  throw new Error('api/console/index.html not found above ' + __dirname);
};

export const registerConsoleRoutes = (rootRouter: Router<ApiState>): void => {
  const dir = consoleDir();
  // Read once at start: the files are part of the release, like dist/.
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(join(dir, file));
    rootRouter.get(path, (ctx) => {
      ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('Cache-Control', 'no-cache');
      ctx.type = type;
      ctx.body = body;
    });
  }
};
