import type { JsonObject } from '../../domain/ports/event-store.port';
import type {
  RateCounter,
  RateLimitStore,
  RatePolicy,
} from '../../domain/ports/rate-limit-store.port';
import { sendError } from '../envelope';
import type { SecurityPort } from '../security-port';
import type { ApiState, AppMiddleware, RouteMiddleware } from './api-state';

/** Each policy, or null when that limit is off. */
export type RateLimitSettings = {
  /** Per authenticated client. */
  client: RatePolicy | null;
  /** Per source IP (ctx.ip), before authentication, on every route. */
  ip: RatePolicy | null;
  /** Per target resource of the routes that name one (an account receiving transfers). */
  hotKey: RatePolicy | null;
  /** Per channel and source IP on the channel callback routes. */
  callback: RatePolicy | null;
  /** Failed authentications per IP and per client id; beyond, 429 until the window ends. */
  authFailures: RatePolicy | null;
};

const secondsOf = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

type Ctx = Parameters<RouteMiddleware>[0] & { state: ApiState };

/** RateLimit-Policy and RateLimit in the form of draft-ietf-httpapi-ratelimit-headers-10. */
const setPolicyHeaders = (
  ctx: Pick<Ctx, 'set'>,
  name: string,
  policy: RatePolicy,
  remaining: number,
  resetS: number,
): void => {
  ctx.set('RateLimit-Policy', `"${name}";q=${policy.requests};w=${policy.windowS}`);
  ctx.set('RateLimit', `"${name}";r=${remaining};t=${resetS}`);
};

const ipOf = (ctx: { ip: string }): string | null => (ctx.ip === '' ? null : ctx.ip);

/** Failed authentications, counted per IP and per client id (API keys, signatures, tokens). */
export type AuthThrottle = {
  /** Seconds until this IP or client id may authenticate again, or null when it may now. */
  blockedForS(keys: { ip: string | null; clientId: string | null }): Promise<number | null>;
  /** Counts one failure against the IP and, when known, the client id. */
  failed(keys: { ip: string | null; clientId: string | null }): Promise<void>;
};

export type RateLimits = {
  /** App-level, before authentication: per source IP. */
  byIp: AppMiddleware;
  /** After authenticate(): per client. */
  byClient: RouteMiddleware;
  /** Per target resource; keyOf names it (null: the route has none for this request). */
  hotKey: (resource: string, keyOf: (ctx: Ctx) => string | null) => RouteMiddleware;
  /** Per channel and IP, answering through the callback route's own acknowledgement. */
  callback: (channel: string) => RouteMiddleware;
  authThrottle: AuthThrottle;
};

/** The limits of one app; `settings` null policies are off. */
export const createRateLimits = (deps: {
  settings: RateLimitSettings;
  /** Where the counters live: memory, or a store several instances share (one seam). */
  store: RateLimitStore;
  security: SecurityPort;
}): RateLimits => {
  const { settings, security } = deps;
  const limiterOf = (
    name: string,
    policy: RatePolicy | null,
  ): { name: string; policy: RatePolicy; counter: RateCounter } | null =>
    policy === null ? null : { name, policy, counter: deps.store.counter(name, policy) };

  const limited = (
    name: string,
    policy: RatePolicy | null,
    keyOf: (ctx: Ctx) => string | null,
    detailOf: (ctx: Ctx) => JsonObject = () => ({}),
  ) => {
    const slot = limiterOf(name, policy);
    return async (ctx: Ctx, next: () => Promise<unknown>): Promise<void> => {
      const key = slot === null ? null : keyOf(ctx);
      if (slot === null || key === null) {
        await next();
        return;
      }
      const verdict = await slot.counter.consume(key);
      if (verdict.allowed) {
        setPolicyHeaders(
          ctx,
          slot.name,
          slot.policy,
          verdict.remaining,
          secondsOf(verdict.resetMs),
        );
        await next();
        return;
      }
      refuse(ctx, secondsOf(verdict.retryAfterMs), slot.name, slot.policy, detailOf(ctx));
    };
  };

  const refuse = (
    ctx: Ctx,
    retryAfterS: number,
    policyName: string,
    policy: RatePolicy,
    detail: JsonObject,
  ): void => {
    setPolicyHeaders(ctx, policyName, policy, 0, retryAfterS);
    ctx.set('Retry-After', String(retryAfterS));
    sendError(ctx, 'rate_limited', { data: { policy: policyName, retryAfterS } });
    security.record(ctx, 'rate_limited', {
      policy: policyName,
      method: ctx.method,
      path: ctx.path,
      retryAfterS,
      ...detail,
    });
  };

  const failures = limiterOf('auth_failures', settings.authFailures);
  const failureKeys = (keys: { ip: string | null; clientId: string | null }): string[] => [
    ...(keys.ip === null ? [] : [`ip:${keys.ip}`]),
    ...(keys.clientId === null ? [] : [`client:${keys.clientId}`]),
  ];
  const authThrottle: AuthThrottle = {
    blockedForS: async (keys) => {
      if (failures === null) return null;
      for (const key of failureKeys(keys)) {
        const state = await failures.counter.peek(key);
        if (state !== null && state.consumed >= failures.policy.requests)
          return secondsOf(state.resetMs);
      }
      return null;
    },
    failed: async (keys) => {
      if (failures === null) return;
      for (const key of failureKeys(keys)) await failures.counter.consume(key);
    },
  };

  return {
    byIp: limited('ip', settings.ip, ipOf) as AppMiddleware,
    byClient: limited('client', settings.client, (ctx) => ctx.state.client?.clientId ?? null),
    hotKey: (resource, keyOf) =>
      limited(
        'hot_key',
        settings.hotKey,
        (ctx) => {
          const key = keyOf(ctx);
          return key === null ? null : `${resource}:${key}`;
        },
        (ctx) => ({ resource, key: keyOf(ctx) }),
      ),
    callback: (channel) =>
      limited(
        'callback',
        settings.callback,
        (ctx) => `${channel}:${ipOf(ctx) ?? 'unknown'}`,
        () => ({
          channel,
        }),
      ),
    authThrottle,
  };
};

/** Answers 429 too_many_auth_failures with Retry-After; used by authenticate(). */
export const refuseThrottledAuthentication = (
  ctx: Ctx,
  retryAfterS: number,
  security: SecurityPort,
  presentedClientId: string | null,
): void => {
  ctx.set('Retry-After', String(retryAfterS));
  sendError(ctx, 'too_many_auth_failures', { data: { retryAfterS } });
  security.record(
    ctx,
    'auth_throttled',
    { method: ctx.method, path: ctx.path, retryAfterS },
    presentedClientId,
  );
};
