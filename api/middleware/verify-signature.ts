import { timingSafeEqual } from 'node:crypto';
import type { SigningStore } from '../../domain/ports/request-signing.port';
import { sendError } from '../envelope';
import type { ErrorName } from '../error-codes';
import { SIGNATURE_WINDOW_S, signRequest } from '../request-signature';
import type { SecurityPort } from '../security-port';
import { clientOf, type RouteMiddleware } from './api-state';
import { readBodyOnce } from './body';
import type { AuthThrottle } from './rate-limit';

const SIGNATURE_PATTERN = /^v1=([0-9a-f]{64})$/;
const TIMESTAMP_PATTERN = /^\d{1,12}$/;
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

type SignatureRefusal = Extract<
  ErrorName,
  'signature_required' | 'signature_invalid' | 'signature_expired' | 'replayed_nonce'
>;

/**
 * After authenticate(): checks X-Signature (v1=<hex>), X-Signature-Timestamp and
 * X-Signature-Nonce when they are sent, and requires them when the client's record says so.
 * The HMAC is checked before the nonce is remembered, so that only the key's holder can use up a
 * nonce. Reads the body once (ctx.state.rawBody) for its hash; the route's body parser reuses it.
 */
export const verifySignature =
  (deps: {
    store: SigningStore;
    throttle: AuthThrottle | null;
    security: SecurityPort;
    nowMs: () => number;
    bodyBytesMax: number;
  }): RouteMiddleware =>
  async (ctx, next) => {
    const { clientId } = clientOf(ctx);
    const signature = ctx.get('X-Signature');
    const timestampS = ctx.get('X-Signature-Timestamp');
    const nonce = ctx.get('X-Signature-Nonce');
    const settings = await deps.store.settingsOf(clientId);
    const refuse = async (refusal: SignatureRefusal, msg?: string): Promise<void> => {
      sendError(ctx, refusal, msg === undefined ? {} : { msg });
      ctx.set('WWW-Authenticate', 'Signature');
      const ip = ctx.ip === '' ? null : ctx.ip;
      deps.security.record(ctx, 'signature_refused', {
        refusal,
        method: ctx.method,
        path: ctx.path,
      });
      await deps.throttle?.failed({ ip, clientId });
    };
    if (signature === '' && timestampS === '' && nonce === '') {
      if (settings?.required === true) return refuse('signature_required');
      return next();
    }
    if (settings === null) return refuse('signature_invalid', 'this client has no signing secret');
    const hex = SIGNATURE_PATTERN.exec(signature)?.[1];
    if (hex === undefined) return refuse('signature_invalid', 'X-Signature must be v1=<64 hex>');
    if (!TIMESTAMP_PATTERN.test(timestampS))
      return refuse('signature_invalid', 'X-Signature-Timestamp must be Unix seconds');
    if (!NONCE_PATTERN.test(nonce))
      return refuse('signature_invalid', 'X-Signature-Nonce must be 16-128 of [A-Za-z0-9_-]');
    const nowS = Math.floor(deps.nowMs() / 1000);
    if (Math.abs(nowS - Number(timestampS)) > SIGNATURE_WINDOW_S)
      return refuse('signature_expired');
    const body = await readBodyOnce(ctx, deps.bodyBytesMax);
    if (body === null) return; // Answered 413/400 already.
    const expected = signRequest(settings.secret, {
      method: ctx.method,
      path: ctx.path,
      query: ctx.querystring,
      timestampS,
      nonce,
      body,
    });
    if (!timingSafeEqual(Buffer.from(hex, 'hex'), Buffer.from(expected, 'hex')))
      return refuse('signature_invalid');
    const expiresAtMs = (Number(timestampS) + SIGNATURE_WINDOW_S) * 1000;
    if (!(await deps.store.rememberNonce(clientId, nonce, expiresAtMs)))
      return refuse('replayed_nonce');
    return next();
  };
