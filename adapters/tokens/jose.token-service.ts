import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import { isMode, type Mode } from '../../domain/mode/mode';
import type { TokenRefusal, TokenService, TokenVerification } from '../../domain/ports/token.port';
import type { KeyRing } from './file.key-ring';

/** RFC 9068 §2.1: the media type of an access token JWT, without its 'application/' prefix. */
const TOKEN_TYPE = 'at+jwt';
const ALGORITHM = 'EdDSA';
/** Leeway for the clocks of issuer and verifier (the issue allows at most 60 s). */
const CLOCK_TOLERANCE_S = 60;
/** The longest lifetime a token may claim: 15 minutes. */
const TOKEN_TTL_S_MAX = 900;
/** A bearer value longer than this is not parsed at all. */
const TOKEN_CHARS_MAX = 4096;
const REQUIRED_CLAIMS = ['exp', 'iat', 'jti', 'client_id', 'sub', 'scope'];
/** Tokens remembered as verified (a client reuses its token for up to 15 minutes). */
const VERIFIED_CACHE_COUNT_MAX = 10_000;

type Verified = {
  clientId: string;
  mode: Mode | null;
  scopes: readonly string[];
  jti: string;
  kid: string;
  expS: number;
};

/**
 * JWT access tokens in the RFC 9068 profile through jose, signed with the key ring's current
 * Ed25519 key. Verification accepts only EdDSA and typ at+jwt from this issuer for this audience,
 * with a kid the ring still trusts; anything else is refused with a reason the caller logs.
 */
export const createJoseTokenService = (options: {
  keyRing: KeyRing;
  issuer: string;
  audience: string;
  tokenTtlS: number;
}): TokenService => {
  const { keyRing, issuer, audience, tokenTtlS } = options;
  if (tokenTtlS < 1 || tokenTtlS > TOKEN_TTL_S_MAX)
    throw new Error(`token lifetime ${tokenTtlS} s is outside 1-${TOKEN_TTL_S_MAX} s`);
  // A signature checked once need not be checked again: the exact token string maps to what it
  // proved. The clock-dependent checks (exp with its leeway, the kid still trusted) run each time.
  const verifiedCache = new Map<string, Verified>();
  const remember = (token: string, verified: Verified): void => {
    if (verifiedCache.size >= VERIFIED_CACHE_COUNT_MAX) {
      const oldest = verifiedCache.keys().next();
      if (oldest.done !== true) verifiedCache.delete(oldest.value);
    }
    verifiedCache.set(token, verified);
  };
  const fromCache = (token: string, nowMs: number): TokenVerification | null => {
    const cached = verifiedCache.get(token);
    if (cached === undefined) return null;
    if (keyRing.verificationKey(cached.kid, nowMs) === null) return refuse('unknown_kid');
    if (Math.floor(nowMs / 1000) >= cached.expS + CLOCK_TOLERANCE_S) return refuse('expired');
    const { clientId, mode, scopes, jti } = cached;
    return { ok: true, clientId, mode, scopes, jti };
  };
  return {
    issue: async ({ clientId, mode, scopes, nowMs }) => {
      const { kid, privateKey } = keyRing.current();
      const jti = randomUUID();
      const iatS = Math.floor(nowMs / 1000);
      const accessToken = await new SignJWT({ client_id: clientId, mode, scope: scopes.join(' ') })
        .setProtectedHeader({ alg: ALGORITHM, typ: TOKEN_TYPE, kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(clientId)
        .setJti(jti)
        .setIssuedAt(iatS)
        .setExpirationTime(iatS + tokenTtlS)
        .sign(privateKey);
      return { accessToken, expiresInS: tokenTtlS, jti, kid };
    },
    verify: async (token, nowMs) => {
      if (token.length > TOKEN_CHARS_MAX) return refuse('malformed');
      const cached = fromCache(token, nowMs);
      if (cached !== null) return cached;
      const header = protectedHeader(token);
      if (header === null) return refuse('malformed');
      if (header.alg !== ALGORITHM) return refuse('alg_refused');
      if (!isAccessTokenType(header.typ)) return refuse('typ_refused');
      const key = header.kid === undefined ? null : keyRing.verificationKey(header.kid, nowMs);
      if (key === null) return refuse('unknown_kid');
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          typ: TOKEN_TYPE,
          issuer,
          audience,
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: new Date(nowMs),
          requiredClaims: REQUIRED_CLAIMS,
        });
        const { client_id: clientId, scope, sub, jti, exp, iat, mode: claimedMode } = payload;
        if (typeof clientId !== 'string' || typeof scope !== 'string' || sub !== clientId)
          return refuse('missing_claim');
        if (claimedMode !== undefined && !isMode(claimedMode)) return refuse('missing_claim');
        const mode = claimedMode ?? null;
        if (exp === undefined || iat === undefined || jti === undefined)
          return refuse('missing_claim');
        if (exp - iat > TOKEN_TTL_S_MAX) return refuse('lifetime_too_long');
        const scopes = scope.split(' ').filter((part) => part !== '');
        remember(token, { clientId, mode, scopes, jti, kid: header.kid ?? '', expS: exp });
        return { ok: true, clientId, mode, scopes, jti };
      } catch (error: unknown) {
        return refuse(refusalOf(error));
      }
    },
    jwks: (nowMs) => ({ keys: keyRing.publicJwks(nowMs) }),
  };
};

const refuse = (reason: TokenRefusal): TokenVerification => ({ ok: false, reason });

const protectedHeader = (token: string): ReturnType<typeof decodeProtectedHeader> | null => {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return null;
  }
};

/** RFC 9068 §4: typ is at+jwt, or its full media type application/at+jwt. */
const isAccessTokenType = (typ: unknown): boolean =>
  typeof typ === 'string' && [TOKEN_TYPE, `application/${TOKEN_TYPE}`].includes(typ.toLowerCase());

const refusalOf = (error: unknown): TokenRefusal => {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg_refused';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'wrong_issuer';
    if (error.claim === 'aud') return 'wrong_audience';
    if (error.claim === 'typ') return 'typ_refused';
    return 'missing_claim';
  }
  return 'malformed';
};
