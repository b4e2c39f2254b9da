import { sendError } from '../envelope';
import type { AppMiddleware } from './api-state';

/**
 * Last in the chain, reached only when no route answered: 405 with Allow when some route has
 * this path (under another method), else 404. Both in the envelope, unlike the router's defaults.
 */
export const routeFallback = (): AppMiddleware => async (ctx) => {
  const allowed = new Set((ctx.matched ?? []).flatMap((layer) => layer.methods));
  if (allowed.size > 0) {
    ctx.set('Allow', [...allowed].join(', '));
    sendError(ctx, 'method_not_allowed');
    return;
  }
  sendError(ctx, 'route_not_found');
};
