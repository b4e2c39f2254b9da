import { hashApiKey } from '../../domain/ports/client-store.port';
import type { ClientRole, ClientStore } from '../../domain/ports/client-store.port';
import { sendError } from '../envelope';
import { serviceMetrics } from '../metrics';
import { clientOf } from './api-state';
import type { RouteMiddleware } from './api-state';

/** Longer credentials are refused unhashed; real keys are 47 characters. */
const API_KEY_CHARS_MAX = 256;
const BEARER_PATTERN = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Requires an API key (`Authorization: Bearer <key>` or `X-Api-Key: <key>`) of a client that is
 * not revoked; sets ctx.state.client and ctx.state.actor. Every failure is the same 401, so that
 * a caller cannot tell an unknown key from a revoked one.
 */
export const authenticate =
  (store: ClientStore): RouteMiddleware =>
  async (ctx, next) => {
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
      ctx.set('WWW-Authenticate', 'Bearer');
      sendError(ctx, 'unauthenticated');
      return;
    }
    const { clientId, role } = client;
    ctx.state.client = { clientId, role };
    ctx.state.actor = { clientId, role, ip: ctx.ip === '' ? null : ctx.ip };
    await next();
  };

/** 403 unless the authenticated client has one of the roles; goes after authenticate(). */
const requiredRoles = new WeakMap<object, readonly ClientRole[]>();

/** The roles a route middleware made by requireRole admits (for the OpenAPI document). */
export const rolesRequiredBy = (middleware: object): readonly ClientRole[] | undefined =>
  requiredRoles.get(middleware);

export const requireRole = (...roles: readonly ClientRole[]): RouteMiddleware => {
  const middleware: RouteMiddleware = async (ctx, next) => {
    if (!roles.includes(clientOf(ctx).role)) {
      serviceMetrics().authFailures.inc({ reason: 'forbidden_role' });
      sendError(ctx, 'forbidden', { msg: `requires role ${roles.join(' or ')}` });
      return;
    }
    await next();
  };
  requiredRoles.set(middleware, roles);
  return middleware;
};

const presentedApiKey = (authorization: string, xApiKey: string): string | null => {
  if (authorization !== '') return BEARER_PATTERN.exec(authorization)?.[1] ?? null;
  return xApiKey === '' ? null : xApiKey;
};
