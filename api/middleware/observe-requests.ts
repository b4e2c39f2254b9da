import { Histogram, register } from 'prom-client';
import type { Logger } from 'winston';
import { matchedRouteOf } from './api-state';
import type { AppMiddleware } from './api-state';

const DURATION_HISTOGRAM_NAME = 'http_request_duration_seconds';
const NS_PER_S = 1e9;
const NS_PER_MS = 1e6;

/** One histogram per process (the default registry), shared by every app created in it. */
const durationHistogram = (): Histogram<string> => {
  const existing = register.getSingleMetric(DURATION_HISTOGRAM_NAME);
  if (existing instanceof Histogram) return existing;
  return new Histogram({
    name: DURATION_HISTOGRAM_NAME,
    help: 'HTTP request duration by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
};

/**
 * Access log and duration histogram. Sits outside the error handler so it sees the final status.
 * Logs the path without the query string and never headers, bodies or keys. Unmatched requests
 * share one route label so that scanners cannot blow up the metric's cardinality.
 */
export const observeRequests = (logger: Logger): AppMiddleware => {
  const histogram = durationHistogram();
  return async (ctx, next) => {
    const startedNs = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const durationNs = Number(process.hrtime.bigint() - startedNs);
      const route = matchedRouteOf(ctx) ?? 'unmatched';
      const status = ctx.status;
      const labels = { method: ctx.method, route, status: String(status) };
      histogram.observe(labels, durationNs / NS_PER_S);
      // Below LOG_LEVEL winston would still push the line through its stream before dropping it.
      if (logger.isInfoEnabled())
        logger.info('http_request', {
          requestId: ctx.state.requestId,
          method: ctx.method,
          path: ctx.path,
          status,
          durationMs: Math.round((durationNs / NS_PER_MS) * 1000) / 1000,
          clientId: ctx.state.client?.clientId ?? null,
        });
    }
  };
};

/** GET /metrics: the default registry in the Prometheus text format. */
export const metricsHandler = (): AppMiddleware => async (ctx) => {
  ctx.body = await register.metrics();
  ctx.set('Content-Type', register.contentType);
};
