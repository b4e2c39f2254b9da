/**
 * The Koa app. How the resource routes (accounts, transfers, payments, refunds, traffic, sandbox
 * callbacks) plug in:
 *
 * - deps.routes is a list of RouteRegistrar: (kit) => void. Each declares its routes on
 *   kit.router (prefix /v1; authenticate() has already run, so clientOf(ctx)/actorOf(ctx) work)
 *   or on kit.publicRouter (prefix /v1, no API key: only channel callbacks, which verify their
 *   own signature over ctx.state.rawBody).
 * - A command route, with `const body = validateBody(schema)` declared once beside it:
 *   router.post('/transfers', requireRole('merchant'), kit.jsonBody(), body, kit.idempotency(),
 *   handler); the handler reads body.read(ctx) and answers sendOk(ctx, data, 201).
 * - Failures: sendError(ctx, name, { msg, data }) or throw new ApiError(name); domain rejections
 *   are appended to api/error-codes.ts. Runtime errors are mapped by name (error-handler.ts).
 * - Bodies: kit.jsonBody() allows limits.bodyBytesMax; traffic routes pass
 *   { bytesMax: kit.limits.trafficBodyBytesMax }. kit.rawBody() keeps bytes only (form, XML).
 * - The composition root also calls startIdempotencyPurge() and, once per process,
 *   prom-client's collectDefaultMetrics(). Behind a reverse proxy, deps.transport.proxyTrust
 *   (TRUSTED_PROXIES) decides whose X-Forwarded-For/-Proto is believed; app.proxy stays off.
 *
 * Order: clientAddress (ctx.ip, ctx.protocol) → Strict-Transport-Security → requestId →
 * observeRequests (access log, metrics) → refuseWhileDraining → gzip (large non-stream bodies) →
 * errorHandler → routers → fallback. The two observers sit outside the error handler so that they see the final
 * status; the drain gate sits inside them, so that its refusals are logged and counted.
 */
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'winston';
import type { ClientStore } from '../domain/ports/client-store.port';
import type { StoredIdempotencyRecord } from '../domain/ports/event-store.port';
import type { IdempotencyStore } from '../domain/ports/idempotency-store.port';
import type { ApiState, RoutingInfo } from './middleware/api-state';
import type { AppLimits, RouteKit, RouteRegistrar } from './route-kit';
import { createDrain, refuseWhileDraining, type Drain } from './drain';
import { authenticate } from './middleware/authenticate';
import {
  clientAddress,
  proxyTrustOf,
  strictTransportSecurity,
  type ProxyTrust,
} from './middleware/client-address';
import { jsonBody, rawBody } from './middleware/body';
import { COMPRESS_BYTES_MIN, compressResponses } from './middleware/compress';
import { payerCors } from './middleware/cors';
import { errorHandler } from './middleware/error-handler';
import { idempotency } from './middleware/idempotency';
import { ledgerIdempotency } from './middleware/ledger-idempotency';
import { observeRequests } from './middleware/observe-requests';
import { requestId } from './middleware/request-id';
import { routeFallback } from './middleware/route-fallback';
import { registerClientRoutes } from './routes/clients.route';
import { registerConsoleRoutes } from './routes/console.route';
import {
  registerHealthRoutes,
  registerMetricsRoute,
  type ReadinessCheck,
} from './routes/health.route';

type AppDeps = {
  logger: Logger;
  clientStore: ClientStore;
  idempotencyStore: IdempotencyStore;
  /** The event store's Idempotency-Key records, written by the ledger with its events. */
  readIdempotencyRecord: (scope: string, key: string) => Promise<StoredIdempotencyRecord | null>;
  /** Per-process boot id (a uuid v7 taken at start): owner of this process's in-flight keys. */
  bootId: string;
  limits: AppLimits;
  routes: readonly RouteRegistrar[];
  /** GET /v1/ready's checks (none: always ready). */
  readiness?: readonly ReadinessCheck[];
  /** The stop's drain (absent: one that is never started). */
  drain?: Drain;
  /** Wall clock in epoch ms; tests inject their own. */
  nowMs?: () => number;
  /** Origins whose pages may call the payer-facing routes (absent: none). */
  corsAllowedOrigins?: readonly string[];
  /** Trusted proxies and HSTS (absent: no proxy trusted, no HSTS). */
  transport?: { proxyTrust: ProxyTrust; hstsMaxAgeS: number };
};

/** Koa's error for a streamed body whose client hung up: routine for SSE, not a fault. */
const PREMATURE_CLOSE = 'ERR_STREAM_PREMATURE_CLOSE';

export const createApp = (deps: AppDeps): Koa<ApiState, RoutingInfo> => {
  const nowMs = deps.nowMs ?? Date.now;
  const drain = deps.drain ?? createDrain();
  const authenticateClient = authenticate(deps.clientStore);
  const router = new Router<ApiState>({ prefix: '/v1' });
  router.use(authenticateClient); // Before any route: a route cannot forget authentication.
  const publicRouter = new Router<ApiState>({ prefix: '/v1' });
  const rootRouter = new Router<ApiState>();
  const ledgerKeys = ledgerIdempotency({ readRecord: deps.readIdempotencyRecord, nowMs });
  const kit: RouteKit = {
    router,
    publicRouter,
    jsonBody: (options = {}) =>
      jsonBody({
        bytesMax: options.bytesMax ?? deps.limits.bodyBytesMax,
        required: options.required ?? true,
      }),
    rawBody: (options = {}) => rawBody({ bytesMax: options.bytesMax ?? deps.limits.bodyBytesMax }),
    idempotency: (options = {}) =>
      idempotency({ store: deps.idempotencyStore, ownerId: deps.bootId, nowMs }, options),
    ledgerIdempotency: () => ledgerKeys,
    limits: deps.limits,
    payerCors: payerCors(deps.corsAllowedOrigins ?? []),
    logger: deps.logger,
    clientStore: deps.clientStore,
    drain,
    nowMs,
  };
  registerHealthRoutes(kit, deps.readiness ?? []);
  registerMetricsRoute(rootRouter, authenticateClient);
  registerConsoleRoutes(rootRouter);
  registerClientRoutes(kit);
  for (const register of deps.routes) register(kit);

  const app = new Koa<ApiState, RoutingInfo>();
  // Errors escaping the middleware (none expected) go to winston, not to Koa's console output.
  // A client that hangs up a stream (an SSE reader going away) is routine: an info line.
  app.on('error', (error: unknown, ctx?: { state?: Partial<ApiState>; path?: string }) => {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : null;
    if (code === PREMATURE_CLOSE) {
      deps.logger.info('client_hung_up', {
        requestId: ctx?.state?.requestId ?? null,
        path: ctx?.path ?? null,
      });
      return;
    }
    deps.logger.error('koa_error', { error: String(error) });
  });
  const transport = deps.transport ?? { proxyTrust: proxyTrustOf([]), hstsMaxAgeS: 0 };
  app.use(clientAddress(transport.proxyTrust));
  app.use(strictTransportSecurity(transport.hstsMaxAgeS));
  app.use(requestId());
  app.use(observeRequests(deps.logger));
  app.use(refuseWhileDraining(drain));
  app.use(compressResponses(COMPRESS_BYTES_MIN));
  app.use(errorHandler(deps.logger));
  app.use(publicRouter.routes());
  app.use(rootRouter.routes());
  app.use(router.routes());
  app.use(routeFallback());
  return app;
};
