import { accessOf as accessFromGrants, narrowAccess, type Access } from '../../domain/auth/grants';
import { isScope } from '../../domain/auth/scopes';
import type { Mode } from '../../domain/mode/mode';
import { hashApiKey } from '../../domain/ports/client-store.port';
import type { Client, ClientStore } from '../../domain/ports/client-store.port';
import type { GrantStore } from '../../domain/ports/grant-store.port';
import type { TokenService } from '../../domain/ports/token.port';
import { sendError } from '../envelope';
import { serviceMetrics } from '../metrics';
import type { RouteMiddleware } from './api-state';
import { refuseThrottledAuthentication, type AuthThrottle } from './rate-limit';
import type { SecurityPort } from '../security-port';

/** Longer credentials are refused unhashed; real keys are 52 characters (47 before modes). */
const API_KEY_CHARS_MAX = 256;
const BEARER_PATTERN = /^Bearer[ \t]+(\S+)[ \t]*$/i;
/** A compact JWS: three base64url parts (the last empty for alg none). API keys have no dot. */
const JWT_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Grants read per request: a client with more has the newest ones honoured. */
export const GRANTS_PER_CLIENT_MAX = 100;

type AuthenticateDeps = {
  clientStore: ClientStore;
  grantStore: GrantStore;
  tokens: TokenService;
  nowMs: () => number;
  /** Where failures and throttled attempts are recorded. */
  security: SecurityPort;
  /** Brute-force defence: failures counted per IP and client id; null: none (most route tests). */
  throttle: AuthThrottle | null;
};

type Context = Parameters<RouteMiddleware>[0];

/**
 * Requires a credential: a JWT access token (`Authorization: Bearer <jwt>`, verified by the token
 * service) or an API key (`Authorization: Bearer <key>` or `X-Api-Key: <key>`) of a client that
 * is not revoked; sets ctx.state.client, actor and access. Every API-key failure is the same 401,
 * so that a caller cannot tell an unknown key from a revoked one; every token failure is 401
 * invalid_token. Both are recorded in the security audit trail with the reason. With throttling,
 * an IP or client id past its failure limit gets 429 too_many_auth_failures, even with a correct
 * credential.
 */
export const authenticate =
  (deps: AuthenticateDeps): RouteMiddleware =>
  async (ctx, next) => {
    const ip = ctx.ip === '' ? null : ctx.ip;
    const { throttle, security } = deps;
    if (throttle !== null) {
      const blockedS = await throttle.blockedForS({ ip, clientId: null });
      if (blockedS !== null) return refuseThrottledAuthentication(ctx, blockedS, security, null);
    }
    const credential = presentedCredential(ctx.get('Authorization'), ctx.get('X-Api-Key'));
    const authenticated =
      credential !== null && JWT_PATTERN.test(credential)
        ? await byToken(deps, ctx, credential)
        : await byApiKey(deps, ctx, credential);
    if (authenticated.ok === false) {
      await throttle?.failed({ ip, clientId: authenticated.claimedClientId });
      return;
    }
    const { client, mode, access } = authenticated;
    const { clientId, role } = client;
    if (throttle !== null) {
      const blockedS = await throttle.blockedForS({ ip: null, clientId });
      if (blockedS !== null)
        return refuseThrottledAuthentication(ctx, blockedS, security, clientId);
    }
    ctx.state.client = { clientId, role, mode };
    ctx.state.actor = { clientId, role, ip };
    ctx.state.access = access;
    await next();
  };

/** Refused: the answer is sent; claimedClientId is whom the credential claimed to be, if known. */
type Authenticated =
  | { ok: true; client: Client; mode: Mode; access: Access }
  | { ok: false; claimedClientId: string | null };

const heldAccess = async (deps: AuthenticateDeps, client: Client): Promise<Access> =>
  accessFromGrants(
    client.role,
    await deps.grantStore.listByClient(client.clientId, GRANTS_PER_CLIENT_MAX),
    deps.nowMs(),
  );

const byApiKey = async (
  deps: AuthenticateDeps,
  ctx: Context,
  apiKey: string | null,
): Promise<Authenticated> => {
  const client =
    apiKey === null || apiKey.length > API_KEY_CHARS_MAX
      ? null
      : await deps.clientStore.findByKeyHash(hashApiKey(apiKey));
  if (client !== null && client.revokedAt === null)
    return { ok: true, client, mode: client.mode, access: await heldAccess(deps, client) };
  // The metric and the trail tell the reasons apart; the client only ever sees the same 401.
  const reason =
    apiKey === null
      ? 'missing_credential'
      : client === null
        ? 'unknown_credential'
        : 'revoked_credential';
  serviceMetrics().authFailures.inc({ reason });
  deps.security.record(ctx, 'authentication_failed', { reason, path: ctx.path }, client?.clientId);
  ctx.set('WWW-Authenticate', 'Bearer');
  sendError(ctx, 'unauthenticated');
  return { ok: false, claimedClientId: client?.clientId ?? null };
};

const byToken = async (
  deps: AuthenticateDeps,
  ctx: Context,
  token: string,
): Promise<Authenticated> => {
  const verified = await deps.tokens.verify(token, deps.nowMs());
  const client = verified.ok ? await deps.clientStore.findById(verified.clientId) : null;
  if (verified.ok && client !== null && client.revokedAt === null) {
    const tokenScopes = new Set(verified.scopes.filter(isScope));
    const access = narrowAccess(await heldAccess(deps, client), tokenScopes);
    return { ok: true, client, mode: verified.mode ?? client.mode, access };
  }
  const reason = verified.ok ? 'revoked_client' : verified.reason;
  serviceMetrics().authFailures.inc({ reason: 'invalid_token' });
  const claimed = verified.ok ? verified.clientId : null;
  deps.security.record(ctx, 'authentication_failed', { reason, path: ctx.path }, claimed);
  ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
  sendError(ctx, 'invalid_token');
  return { ok: false, claimedClientId: claimed };
};

const presentedCredential = (authorization: string, xApiKey: string): string | null => {
  if (authorization !== '') return BEARER_PATTERN.exec(authorization)?.[1] ?? null;
  return xApiKey === '' ? null : xApiKey;
};
