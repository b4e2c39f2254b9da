import type Router from '@koa/router';
import type { RouteKit } from '../route-kit';
import { sendOk } from '../envelope';
import type { ApiState, RouteMiddleware } from '../middleware/api-state';
import { requireRole } from '../middleware/authenticate';
import { metricsHandler } from '../middleware/observe-requests';

/** GET /v1/health: public liveness; answers as soon as the process serves HTTP. */
export const registerHealthRoutes = (kit: RouteKit): void => {
  kit.publicRouter.get('/health', (ctx) => sendOk(ctx, { status: 'ok' }));
};

/** GET /metrics (outside /v1, Prometheus' convention): admins and scrapers with an admin key. */
export const registerMetricsRoute = (
  rootRouter: Router<ApiState>,
  authenticateClient: RouteMiddleware,
): void => {
  rootRouter.get('/metrics', authenticateClient, requireRole('admin'), metricsHandler());
};
