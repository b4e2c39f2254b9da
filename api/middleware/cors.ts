import type { RouteMiddleware } from './api-state';

/**
 * CORS for the payer-facing routes only (the status page a merchant's web page polls): an
 * allowed Origin gets Access-Control-Allow-Origin with that origin, anything else gets no CORS
 * header at all, so the browser keeps the answer from the page. No credentials are involved
 * (the one-time ticket is in the URL), so Access-Control-Allow-Credentials is never sent. Every
 * other route sends no CORS header, and its preflight finds no OPTIONS route (405).
 */
const PREFLIGHT_MAX_AGE_S = 600;

/** `https://shop.example` or `http://localhost:8080`: a scheme, a host, a port if any, nothing else. */
export const isOrigin = (text: string): boolean => {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === text;
  } catch {
    return false;
  }
};

export type PayerCors = { actual: RouteMiddleware; preflight: RouteMiddleware };

export const payerCors = (allowedOrigins: readonly string[]): PayerCors => {
  const allowed = new Set(allowedOrigins);
  const allowedOrigin = (origin: string): string | null =>
    origin !== '' && allowed.has(origin) ? origin : null;
  return {
    actual: async (ctx, next) => {
      ctx.vary('Origin');
      const origin = allowedOrigin(ctx.get('Origin'));
      if (origin !== null) {
        ctx.set('Access-Control-Allow-Origin', origin);
        ctx.set('Access-Control-Expose-Headers', 'X-Request-Id');
      }
      await next();
    },
    preflight: (ctx) => {
      ctx.vary('Origin');
      const origin = allowedOrigin(ctx.get('Origin'));
      ctx.status = 204;
      if (origin === null || ctx.get('Access-Control-Request-Method') !== 'GET') return;
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Methods', 'GET');
      ctx.set('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_S));
    },
  };
};
