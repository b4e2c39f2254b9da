import type { Mode } from '../mode/mode';
import type { JsonObject } from './event-store.port';

/**
 * An access token to issue (RFC 9068 claims; the issuer fills iss, aud, iat, exp, jti). The
 * client's mode travels as the `mode` claim, so that a request's mode is known from the token.
 */
export type AccessTokenRequest = {
  clientId: string;
  mode: Mode;
  scopes: readonly string[];
  nowMs: number;
};

export type IssuedToken = { accessToken: string; expiresInS: number; jti: string; kid: string };

/** Why a presented token was refused; the client only ever sees invalid_token. */
export type TokenRefusal =
  | 'malformed'
  | 'alg_refused'
  | 'typ_refused'
  | 'unknown_kid'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'expired'
  | 'lifetime_too_long';

export type TokenVerification =
  /** mode null: a token issued before modes (it lives 15 minutes at most); the client's counts. */
  | { ok: true; clientId: string; mode: Mode | null; scopes: readonly string[]; jti: string }
  | { ok: false; reason: TokenRefusal };

/** Issues and verifies the service's JWT access tokens; publishes its keys as a JWKS. */
export interface TokenService {
  /** Signs a token with the current key. */
  issue(request: AccessTokenRequest): Promise<IssuedToken>;
  /** Verifies a compact JWT at nowMs; never throws for a bad token. */
  verify(token: string, nowMs: number): Promise<TokenVerification>;
  /** The public keys that verify tokens at nowMs (current and those in their overlap). */
  jwks(nowMs: number): { keys: JsonObject[] };
}
