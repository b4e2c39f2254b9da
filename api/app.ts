/**
 * The Koa app. How the resource routes (accounts, transfers, payments, refunds, traffic, sandbox
 * callbacks) plug in:
 *
 * - deps.routes is a list of RouteRegistrar: (kit) => void. Each declares its routes on
 *   kit.router (prefix /v1; authenticate() has already run, so clientOf(ctx)/actorOf(ctx) work)
 *   or on kit.publicRouter (prefix /v1, no API key: only channel callbacks, which verify their
 *   own signature over ctx.state.rawBody).
 * - A command route, with `const body = validateBody(schema)` declared once beside it:
 *   router.post('/transfers', requireScope('transfers:write'), kit.jsonBody(), body, kit.idempotency(),
 *   handler); the handler reads body.read(ctx) and answers sendOk(ctx, data, 201).
 * - Failures: sendError(ctx, name, { msg, data }) or throw new ApiError(name); domain rejections
 *   are appended to api/error-codes.ts. Runtime errors are mapped by name (error-handler.ts).
 * - Bodies: kit.jsonBody() allows limits.bodyBytesMax; traffic routes pass
 *   { bytesMax: kit.limits.trafficBodyBytesMax }. kit.rawBody() keeps bytes only (form, XML).
 * - The composition root also calls startIdempotencyPurge() and, once per process,
 *   prom-client's collectDefaultMetrics(). Behind a reverse proxy, deps.transport.proxyTrust
 *   (TRUSTED_PROXIES) decides whose X-Forwarded-For/-Proto is believed; app.proxy stays off.
 *
 * - The OpenAPI document (GET /v1/openapi.json, the page /docs) is generated from the routers'
 *   layers and their validators' schemas (api/openapi.ts): validate with validateBody/Query/
 *   Params and guard with requireScope, and the route documents itself.
 *
 * Order: traceRequests (server span) → clientAddress (ctx.ip, ctx.protocol) → Strict-Transport-Security → requestId → observeRequests (access log, metrics) → refuseWhileDraining → gzip (large non-stream bodies) → errorHandler →
 * per-IP limit → routers (authenticate → per-client limit → signature check → route) → fallback. The two observers sit outside the error handler so that they see the final
 * status; the drain gate sits inside them, so that its refusals are logged and counted.
 */
import Router from '@koa/router';
import Koa from 'koa';
import { assert } from '../domain/assert';
import type { Logger } from 'winston';
import type { ClientStore } from '../domain/ports/client-store.port';
import type { GrantStore } from '../domain/ports/grant-store.port';
import type { SecurityEventStore } from '../domain/ports/security-event.port';
import type { TokenService } from '../domain/ports/token.port';
import type { StoredIdempotencyRecord } from '../domain/ports/event-store.port';
import type { IdempotencyStore } from '../domain/ports/idempotency-store.port';
import type { ApiState, RouteMiddleware, RoutingInfo } from './middleware/api-state';
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
import { buildOpenApiDocument } from './openapi';
import { requestId } from './middleware/request-id';
import { routeFallback } from './middleware/route-fallback';
import { registerClientGrantRoutes } from './routes/client-grants.route';
import { traceRequests } from './middleware/trace-requests';
import { registerClientRoutes } from './routes/clients.route';
import { registerOAuthRoutes } from './routes/oauth.route';
import { securityEventRoutes } from './routes/security-events.route';
import type { SecurityPort } from './security-port';
import { registerClientSigningRoutes } from './routes/client-signing.route';
import type { Governance } from './governance';
import { verifySignature } from './middleware/verify-signature';
import { registerConsoleRoutes } from './routes/console.route';
import { registerOpenApiRoutes } from './routes/openapi.route';
import {
  registerHealthRoutes,
  registerMetricsRoute,
  type ReadinessCheck,
} from './routes/health.route';

type AppDeps = {
  logger: Logger;
  clientStore: ClientStore;
  grantStore: GrantStore;
  tokens: TokenService;
  /** The security audit trail's store (GET /v1/security-events reads it). */
  securityEventStore: SecurityEventStore;
  /** The one path every middleware and route records security events through. */
  security: SecurityPort;
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
  /** Rate limits and signed requests (absent: neither, as in most route tests). */
  governance?: Governance;
};

const passThrough: RouteMiddleware = (_ctx, next) => next();

/**
 * Every route behind authenticate() declares its scope with requireScope(): a route that forgot
 * its authorization stops the start (and every API test) instead of serving every client.
 */
const assertEveryRouteScoped = (router: Router<ApiState>): void => {
  for (const layer of router.stack) {
    if (layer.methods.length === 0) continue; // router.use(): authenticate itself.
    const scoped = layer.stack.some(
      (middleware) => typeof Reflect.get(middleware, 'scope') === 'string',
    );
    assert(scoped, `route ${layer.methods.join(',')} ${String(layer.path)} has no requireScope()`);
  }
};

/** The API's version in the OpenAPI document: the /v1 of its paths. */
const API_VERSION = '1';

/** Koa's error for a streamed body whose client hung up: routine for SSE, not a fault. */
const PREMATURE_CLOSE = 'ERR_STREAM_PREMATURE_CLOSE';

export const createApp = (deps: AppDeps): Koa<ApiState, RoutingInfo> => {
  const nowMs = deps.nowMs ?? Date.now;
  const drain = deps.drain ?? createDrain();
  const governance = deps.governance ?? null;
  const authenticateClient = authenticate({
    clientStore: deps.clientStore,
    grantStore: deps.grantStore,
    tokens: deps.tokens,
    nowMs,
    security: deps.security,
    throttle: governance?.rateLimits.authThrottle ?? null,
  });
  const router = new Router<ApiState>({ prefix: '/v1' });
  router.use(authenticateClient); // Before any route: a route cannot forget authentication.
  if (governance !== null) {
    router.use(governance.rateLimits.byClient);
    router.use(
      verifySignature({
        store: governance.signing,
        throttle: governance.rateLimits.authThrottle,
        security: deps.security,
        nowMs,
        bodyBytesMax: Math.max(deps.limits.bodyBytesMax, deps.limits.trafficBodyBytesMax),
      }),
    );
  }
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
    grantStore: deps.grantStore,
    tokens: deps.tokens,
    security: deps.security,
    drain,
    nowMs,
    hotKey: (resource, keyOf) => governance?.rateLimits.hotKey(resource, keyOf) ?? passThrough,
    callbackLimit: (channel) => governance?.rateLimits.callback(channel) ?? passThrough,
  };
  registerHealthRoutes(kit, deps.readiness ?? []);
  registerMetricsRoute(rootRouter, authenticateClient);
  registerConsoleRoutes(rootRouter);
  registerClientRoutes(kit);
  registerClientGrantRoutes(kit);
  registerOAuthRoutes(kit, rootRouter);
  securityEventRoutes(deps.securityEventStore)(kit);
  if (governance !== null) registerClientSigningRoutes(kit, governance);
  for (const register of deps.routes) register(kit);
  assertEveryRouteScoped(router);
  // Built once every route is declared (its own route included, which serves it).
  let openApiDocument: object | null = null;
  registerOpenApiRoutes({ publicRouter, rootRouter }, () => {
    openApiDocument ??= buildOpenApiDocument(
      [
        { router, authenticated: true },
        { router: publicRouter, authenticated: false },
        {
          router: rootRouter,
          authenticated: (layerStack) => layerStack.includes(authenticateClient),
        },
      ],
      { title: 'Ledger service API', version: API_VERSION },
    );
    return openApiDocument;
  });

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
  app.use(traceRequests());
  const transport = deps.transport ?? { proxyTrust: proxyTrustOf([]), hstsMaxAgeS: 0 };
  app.use(clientAddress(transport.proxyTrust));
  app.use(strictTransportSecurity(transport.hstsMaxAgeS));
  app.use(requestId());
  app.use(observeRequests(deps.logger));
  app.use(refuseWhileDraining(drain));
  app.use(compressResponses(COMPRESS_BYTES_MIN));
  app.use(errorHandler(deps.logger));
  if (governance !== null) app.use(governance.rateLimits.byIp);
  app.use(publicRouter.routes());
  app.use(rootRouter.routes());
  app.use(router.routes());
  app.use(routeFallback());
  return app;
};
