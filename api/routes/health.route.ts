import type Router from '@koa/router';
import type { RouteKit } from '../route-kit';
import { sendError, sendOk } from '../envelope';
import type { ApiState, RouteMiddleware } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { metricsHandler } from '../middleware/observe-requests';

/**
 * One readiness check: resolves null when it passes, else the reason (safe to show: a code or a
 * lag, never a path or a secret). A check that throws fails with the error's message.
 */
export type ReadinessCheck = { name: string; run: () => Promise<string | null> };

/** A check that has not answered by then fails (a hung store must not hang the probe). */
const READY_CHECK_TIMEOUT_MS = 2000;

const runCheck = async (check: ReadinessCheck, timeoutMs: number): Promise<string | null> => {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([check.run(), timedOut]);
  } catch (error: unknown) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * GET /v1/health: public liveness; answers as soon as the process serves HTTP.
 * GET /v1/ready: public readiness; 200 when every check passes, else 503 `not_ready` whose
 * data.failing names each failed check and why.
 */
export const registerHealthRoutes = (
  kit: RouteKit,
  checks: readonly ReadinessCheck[],
  checkTimeoutMs: number = READY_CHECK_TIMEOUT_MS,
): void => {
  kit.publicRouter.get('/health', (ctx) => sendOk(ctx, { status: 'ok' }));
  kit.publicRouter.get('/ready', async (ctx) => {
    const results = await Promise.all(
      checks.map(async (check) => ({
        check: check.name,
        reason: await runCheck(check, checkTimeoutMs),
      })),
    );
    const status = Object.fromEntries(
      results.map(({ check, reason }) => [check, reason === null ? 'ok' : 'failing']),
    );
    const failing = results.flatMap(({ check, reason }) =>
      reason === null ? [] : [{ check, reason }],
    );
    if (failing.length === 0) return sendOk(ctx, { status: 'ready', checks: status });
    sendError(ctx, 'not_ready', {
      msg: `not ready: ${failing.map(({ check }) => check).join(', ')}`,
      data: { failing, checks: status },
    });
  });
};

/** GET /metrics (outside /v1, Prometheus' convention): admins and scrapers with an admin key. */
export const registerMetricsRoute = (
  rootRouter: Router<ApiState>,
  authenticateClient: RouteMiddleware,
): void => {
  rootRouter.get('/metrics', authenticateClient, requireScope('metrics:read'), metricsHandler());
};
