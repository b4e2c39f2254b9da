import type { RouterMiddleware } from '@koa/router';
import type { Middleware } from 'koa';
import { assert } from '../../domain/assert';
import type { Access } from '../../domain/auth/grants';
import type { Mode } from '../../domain/mode/mode';
import type { ClientRole } from '../../domain/ports/client-store.port';
import type { EventActor } from '../../domain/ports/event-store.port';

/** The authenticated caller, set by authenticate(); mode from its token's claim or its record. */
export type AuthenticatedClient = { clientId: string; role: ClientRole; mode: Mode };

/** ctx.state of every request; optional members are set by the middleware named beside them. */
export type ApiState = {
  /** requestId(): the inbound X-Request-Id when well-formed, else a fresh uuid v7. */
  requestId: string;
  /** jsonBody() / rawBody(): the exact request bytes (signatures and fingerprints need them). */
  rawBody?: Buffer;
  /** authenticate() */
  client?: AuthenticatedClient;
  /** authenticate(): what events record as metadata.actor. */
  actor?: EventActor;
  /** authenticate(): the scopes this request holds (role defaults, grants, a token's subset). */
  access?: Access;
};

/** What @koa/router leaves on the context, read by app-level middleware after routing. */
export type RoutingInfo = {
  _matchedRoute?: string | RegExp;
  matched?: ReadonlyArray<{ methods: readonly string[] }>;
};

export type AppMiddleware = Middleware<ApiState, RoutingInfo>;
export type RouteMiddleware = RouterMiddleware<ApiState>;

/** The authenticated client; a route that reaches this without authenticate() is a bug. */
export const clientOf = (ctx: { state: ApiState }): AuthenticatedClient => {
  const { client } = ctx.state;
  assert(client !== undefined, 'route reads the client without authenticate()');
  return client;
};

/** What the request may do; requires authenticate(), like clientOf. */
export const accessOf = (ctx: { state: ApiState }): Access => {
  const { access } = ctx.state;
  assert(access !== undefined, 'route reads the access without authenticate()');
  return access;
};

/** The actor for event metadata; requires authenticate(), like clientOf. */
export const actorOf = (ctx: { state: ApiState }): EventActor => {
  const { actor } = ctx.state;
  assert(actor !== undefined, 'route reads the actor without authenticate()');
  return actor;
};

/** The route template that matched (e.g. '/v1/clients/:clientId'), for scopes and metrics. */
export const matchedRouteOf = (ctx: { _matchedRoute?: string | RegExp }): string | null => {
  const route = ctx._matchedRoute;
  if (route === undefined) return null;
  return typeof route === 'string' ? route : route.source;
};
