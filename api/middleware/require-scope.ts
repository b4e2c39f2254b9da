import { holdsScopeSomewhere } from '../../domain/auth/grants';
import type { Scope } from '../../domain/auth/scopes';
import { sendError } from '../envelope';
import { serviceMetrics } from '../metrics';
import { accessOf } from './api-state';
import type { RouteMiddleware } from './api-state';

/** A route's scope check; `scope` is readable on the middleware (the OpenAPI generator reads it). */
type ScopeMiddleware = RouteMiddleware & { readonly scope: Scope };

/**
 * 403 insufficient_scope, naming the scope, unless the request holds it (everywhere, or on some
 * resource through a grant: the route's ownership check then decides which). After authenticate().
 */
export const requireScope = (scope: Scope): ScopeMiddleware => {
  const middleware: RouteMiddleware = async (ctx, next) => {
    if (!holdsScopeSomewhere(accessOf(ctx), scope)) {
      serviceMetrics().authFailures.inc({ reason: 'insufficient_scope' });
      ctx.set('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${scope}"`);
      sendError(ctx, 'insufficient_scope', {
        msg: `requires scope ${scope}`,
        data: { scope },
      });
      return;
    }
    await next();
  };
  return Object.assign(middleware, { scope });
};
