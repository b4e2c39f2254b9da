import type Router from '@koa/router';
import { accessOf } from '../../domain/auth/grants';
import { grantedScopes, type Scope } from '../../domain/auth/scopes';
import {
  CLIENT_SECRET_CHARS_MAX,
  UNMATCHABLE_SECRET_HASH,
  verifyClientSecret,
} from '../../domain/auth/client-secret';
import type { Client } from '../../domain/ports/client-store.port';
import { errorCodes, type ErrorName } from '../error-codes';
import type { ApiState, RouteMiddleware } from '../middleware/api-state';
import { GRANTS_PER_CLIENT_MAX } from '../middleware/authenticate';
import type { RouteKit } from '../route-kit';

/** A token request is a few form fields; anything bigger is not one. */
const TOKEN_REQUEST_BYTES_MAX = 4096;
/** How long a JWKS may be cached: well inside the overlap a rotated key is kept for. */
const JWKS_MAX_AGE_S = 300;

type OAuthError = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope';
const ERROR_NAMES: Record<OAuthError, ErrorName> = {
  invalid_request: 'oauth_invalid_request',
  invalid_client: 'invalid_client',
  unsupported_grant_type: 'unsupported_grant_type',
  invalid_scope: 'invalid_scope',
};

type Context = Parameters<RouteMiddleware>[0];
type ClientCredentials = { clientId: string; secret: string; method: 'basic' | 'post' };

/**
 * RFC 6749 §5.2's error (the `error` member clients parse) beside the service's envelope; no
 * caching (§5.1). A failed client_secret_basic answers WWW-Authenticate: Basic (§5.2).
 */
const oauthError = (ctx: Context, error: OAuthError, description: string, basic = false): void => {
  const spec = errorCodes[ERROR_NAMES[error]];
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  if (basic) ctx.set('WWW-Authenticate', 'Basic realm="ledger", charset="UTF-8"');
  ctx.body = {
    error,
    error_description: description,
    code: spec.code,
    msg: description,
    data: null,
  };
  ctx.status = spec.status;
};

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic's base64. */
const formDecode = (value: string): string | null => {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
};

const basicCredentials = (authorization: string): ClientCredentials | null => {
  const match = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(authorization);
  if (match?.[1] === undefined) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  return clientId === null || secret === null ? null : { clientId, secret, method: 'basic' };
};

/** The form's fields, or null when one is repeated (RFC 6749 §3.2 forbids it). */
const formFields = (body: Buffer): Map<string, string> | null => {
  const fields = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (fields.has(name)) return null;
    fields.set(name, value);
  }
  return fields;
};

/** POST /v1/oauth/token (client credentials) and GET /.well-known/jwks.json. */
export const registerOAuthRoutes = (kit: RouteKit, rootRouter: Router<ApiState>): void => {
  rootRouter.get('/.well-known/jwks.json', (ctx) => {
    ctx.set('Cache-Control', `public, max-age=${JWKS_MAX_AGE_S}`);
    ctx.type = 'application/jwk-set+json';
    ctx.body = kit.tokens.jwks(kit.nowMs());
  });

  kit.publicRouter.post(
    '/oauth/token',
    kit.rawBody({ bytesMax: TOKEN_REQUEST_BYTES_MAX }),
    async (ctx) => {
      if (ctx.is('application/x-www-form-urlencoded') === false)
        return oauthError(
          ctx,
          'invalid_request',
          'the body must be application/x-www-form-urlencoded',
        );
      const fields = formFields(ctx.state.rawBody ?? Buffer.alloc(0));
      if (fields === null) return oauthError(ctx, 'invalid_request', 'a parameter is repeated');
      const authorization = ctx.get('Authorization');
      const basic = authorization === '' ? null : basicCredentials(authorization);
      if (authorization !== '' && basic === null)
        return oauthError(ctx, 'invalid_client', 'malformed Basic credentials', true);
      if (basic !== null && (fields.has('client_secret') || fields.has('client_id')))
        return oauthError(ctx, 'invalid_request', 'use one client authentication method');
      const grantType = fields.get('grant_type');
      if (grantType === undefined)
        return oauthError(ctx, 'invalid_request', 'grant_type is required');
      if (grantType !== 'client_credentials')
        return oauthError(ctx, 'unsupported_grant_type', 'grant_type must be client_credentials');
      const credentials = basic ?? postCredentials(fields);
      const client = credentials === null ? null : await authenticateClient(kit, credentials);
      if (credentials === null || client === null) {
        kit.security.record(
          ctx,
          'authentication_failed',
          { reason: 'invalid_client', path: ctx.path, method: credentials?.method ?? 'none' },
          credentials?.clientId.slice(0, 64) ?? null,
        );
        return oauthError(ctx, 'invalid_client', 'client authentication failed', basic !== null);
      }
      await issueToken(kit, ctx, client, credentials.method, fields.get('scope') ?? null);
    },
  );
};

const postCredentials = (fields: ReadonlyMap<string, string>): ClientCredentials | null => {
  const clientId = fields.get('client_id');
  const secret = fields.get('client_secret');
  return clientId === undefined || secret === undefined
    ? null
    : { clientId, secret, method: 'post' };
};

/** The client if the secret is its own; unknown clients cost one scrypt too (no timing oracle). */
const authenticateClient = async (
  kit: RouteKit,
  credentials: ClientCredentials,
): Promise<Client | null> => {
  if (credentials.secret.length > CLIENT_SECRET_CHARS_MAX) return null;
  const client = await kit.clientStore.findById(credentials.clientId);
  const secretHash =
    client === null ? null : await kit.clientStore.secretHashOf(credentials.clientId);
  const matches = await verifyClientSecret(
    credentials.secret,
    secretHash ?? UNMATCHABLE_SECRET_HASH,
  );
  return matches && secretHash !== null && client !== null && client.revokedAt === null
    ? client
    : null;
};

const issueToken = async (
  kit: RouteKit,
  ctx: Context,
  client: Client,
  method: ClientCredentials['method'],
  scope: string | null,
): Promise<void> => {
  const nowMs = kit.nowMs();
  const grants = await kit.grantStore.listByClient(client.clientId, GRANTS_PER_CLIENT_MAX);
  const access = accessOf(client.role, grants, nowMs);
  const held = new Set<Scope>(access.scopes);
  access.resourceScopes.forEach((scopes) => scopes.forEach((granted) => held.add(granted)));
  const granted = grantedScopes(scope, held);
  if (!granted.ok) {
    const refused = granted.unknownOrRefused.join(' ');
    return oauthError(ctx, 'invalid_scope', `scope not allowed: ${refused || '(empty)'}`);
  }
  const token = await kit.tokens.issue({
    clientId: client.clientId,
    mode: client.mode,
    scopes: granted.scopes,
    nowMs,
  });
  ctx.state.client = { clientId: client.clientId, role: client.role, mode: client.mode };
  kit.security.record(ctx, 'token_issued', {
    jti: token.jti,
    kid: token.kid,
    scope: granted.scopes.join(' '),
    authMethod: `client_secret_${method}`,
    expiresInS: token.expiresInS,
  });
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.body = {
    access_token: token.accessToken,
    token_type: 'Bearer',
    expires_in: token.expiresInS,
    scope: granted.scopes.join(' '),
  };
  ctx.status = 200;
};
