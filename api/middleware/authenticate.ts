import { hashApiKey } from '../../domain/ports/client-store.port';
import type { ClientRole, ClientStore } from '../../domain/ports/client-store.port';
import { sendError } from '../envelope';
import { serviceMetrics } from '../metrics';
import type { SecurityPort } from '../security-port';
import { clientOf } from './api-state';
import type { RouteMiddleware } from './api-state';
import { refuseThrottledAuthentication, type AuthThrottle } from './rate-limit';

/** Longer credentials are refused unhashed; real keys are 47 characters. */
const API_KEY_CHARS_MAX = 256;
const BEARER_PATTERN = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Brute-force defence: failures counted per IP and client id, and who hears of refusals. */
type Throttling = { throttle: AuthThrottle; security: SecurityPort };

/**
 * Requires an API key (`Authorization: Bearer <key>` or `X-Api-Key: <key>`) of a client that is
 * not revoked; sets ctx.state.client and ctx.state.actor. Every failure is the same 401, so that
 * a caller cannot tell an unknown key from a revoked one. With throttling, an IP or client id
 * past its failure limit gets 429 too_many_auth_failures, even with a correct key.
 */
export const authenticate =
  (store: ClientStore, throttling: Throttling | null = null): RouteMiddleware =>
  async (ctx, next) => {
    const ip = ctx.ip === '' ? null : ctx.ip;
    if (throttling !== null) {
      const blockedS = await throttling.throttle.blockedForS({ ip, clientId: null });
      if (blockedS !== null)
        return refuseThrottledAuthentication(ctx, blockedS, throttling.security, null);
    }
    const apiKey = presentedApiKey(ctx.get('Authorization'), ctx.get('X-Api-Key'));
    const client =
      apiKey === null || apiKey.length > API_KEY_CHARS_MAX
        ? null
        : await store.findByKeyHash(hashApiKey(apiKey));
    if (client === null || client.revokedAt !== null) {
      // The metric tells the reasons apart; the client only ever sees the same 401.
      const reason =
        apiKey === null
          ? 'missing_credential'
          : client === null
            ? 'unknown_credential'
            : 'revoked_credential';
      serviceMetrics().authFailures.inc({ reason });
      await throttling?.throttle.failed({ ip, clientId: null });
      ctx.set('WWW-Authenticate', 'Bearer');
      sendError(ctx, 'unauthenticated');
      return;
    }
    const { clientId, role } = client;
    if (throttling !== null) {
      const blockedS = await throttling.throttle.blockedForS({ ip: null, clientId });
      if (blockedS !== null)
        return refuseThrottledAuthentication(ctx, blockedS, throttling.security, clientId);
    }
    ctx.state.client = { clientId, role };
    ctx.state.actor = { clientId, role, ip };
    await next();
  };

/** 403 unless the authenticated client has one of the roles; goes after authenticate(). */
export const requireRole =
  (...roles: readonly ClientRole[]): RouteMiddleware =>
  async (ctx, next) => {
    if (!roles.includes(clientOf(ctx).role)) {
      serviceMetrics().authFailures.inc({ reason: 'forbidden_role' });
      sendError(ctx, 'forbidden', { msg: `requires role ${roles.join(' or ')}` });
      return;
    }
    await next();
  };

const presentedApiKey = (authorization: string, xApiKey: string): string | null => {
  if (authorization !== '') return BEARER_PATTERN.exec(authorization)?.[1] ?? null;
  return xApiKey === '' ? null : xApiKey;
};
