import type Router from '@koa/router';
import type { Logger } from 'winston';
import type { ClientStore } from '../domain/ports/client-store.port';
import type { GrantStore } from '../domain/ports/grant-store.port';
import type { TokenService } from '../domain/ports/token.port';
import type { Drain } from './drain';
import type { ApiState, RouteMiddleware } from './middleware/api-state';
import type { JsonBodyOptions } from './middleware/body';
import type { PayerCors } from './middleware/cors';
import type { IdempotencyOptions } from './middleware/idempotency';
import type { SecurityPort } from './security-port';

/** The seam between the app and the resource routes (see api/app.ts for how they plug in). */
export type AppLimits = {
  /** Default body limit of kit.jsonBody() / kit.rawBody(). */
  bodyBytesMax: number;
  /** For the traffic routes' batched bodies. */
  trafficBodyBytesMax: number;
};

/** What a RouteRegistrar gets to declare its routes with. */
export type RouteKit = {
  /** Prefix /v1; every route needs an API key (authenticate() runs first). */
  router: Router<ApiState>;
  /** Prefix /v1; no API key: health and channel callbacks that verify their own signature. */
  publicRouter: Router<ApiState>;
  /** Reads and parses a JSON body (default: required, limits.bodyBytesMax). */
  jsonBody: (options?: Partial<JsonBodyOptions>) => RouteMiddleware;
  /** Reads the raw body only (default limit: limits.bodyBytesMax). */
  rawBody: (options?: { bytesMax?: number }) => RouteMiddleware;
  /** Idempotency-Key handling for POST commands; after the body and its validator. */
  idempotency: (options?: IdempotencyOptions) => RouteMiddleware;
  /** Idempotency-Key for ledger commands: the key commits with the events (ledger-idempotency). */
  ledgerIdempotency: () => RouteMiddleware;
  limits: AppLimits;
  logger: Logger;
  clientStore: ClientStore;
  /** Clients' grants of extra scopes. */
  grantStore: GrantStore;
  /** Issues and verifies JWT access tokens. */
  tokens: TokenService;
  /** The one path of security events into the audit trail. */
  security: SecurityPort;
  /** CORS for the payer-facing routes only (CORS_ALLOWED_ORIGINS): the route and its preflight. */
  payerCors: PayerCors;
  /** The stop's drain: streams end with a last event when it starts. */
  drain: Drain;
  nowMs: () => number;
  /**
   * Hot-key limit on the route's target resource (e.g. 'account' and the credited account id);
   * goes after the body's validator. Passes everything when the app has no rate limits.
   */
  hotKey: (resource: string, keyOf: (ctx: HotKeyContext) => string | null) => RouteMiddleware;
  /** The channel callbacks' limit per channel and IP; inside the route's acknowledgement. */
  callbackLimit: (channel: string) => RouteMiddleware;
};

export type HotKeyContext = Parameters<RouteMiddleware>[0] & { state: ApiState };

export type RouteRegistrar = (kit: RouteKit) => void;
