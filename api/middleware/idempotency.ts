import { createHash } from 'node:crypto';
import type { Logger } from 'winston';
import { assert } from '../../domain/assert';
import type {
  BeginResult,
  IdempotencyStore,
  StoredResponse,
} from '../../domain/ports/idempotency-store.port';
import { sendError, sendResponse } from '../envelope';
import { serviceMetrics } from '../metrics';
import { clientOf, matchedRouteOf } from './api-state';
import type { RouteMiddleware } from './api-state';
import { describeThrown } from './error-handler';

type IdempotencyDeps = {
  store: IdempotencyStore;
  /** Per-process boot id: in-flight keys of another owner are a crashed process's, taken over. */
  ownerId: string;
  nowMs: () => number;
};

export type IdempotencyOptions = {
  /** Response headers kept for replays besides the body; lower-case. */
  replayHeaderNames?: readonly string[];
};

/** RFC 9110 visible ASCII plus space; Stripe-like length cap. */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;
const REPLAY_HEADER_NAMES_DEFAULT = ['location'];
const UNEXECUTED_STATUS = 503;

/**
 * Idempotency-Key for POST commands; goes after authenticate(), jsonBody() and the validators so
 * that a refused request consumes no key. Scope = client + method + route template; fingerprint
 * = sha256(method, URL, exact body bytes). Once the handler has begun, its outcome is stored
 * whatever it is, except a 503, which promises that nothing was executed: the key is released.
 */
export const idempotency = (
  deps: IdempotencyDeps,
  options: IdempotencyOptions = {},
): RouteMiddleware => {
  const headerNames = options.replayHeaderNames ?? REPLAY_HEADER_NAMES_DEFAULT;
  return async (ctx, next) => {
    const requestKey = requestKeyOf(ctx);
    if (requestKey === null) return;
    const { scope, key, fingerprint } = requestKey;
    const begun = await deps.store.begin(scope, key, fingerprint, deps.ownerId, deps.nowMs());
    if (begun !== 'started') return answerExisting(ctx, begun);

    let thrown: { error: unknown } | null = null;
    try {
      await next();
    } catch (error: unknown) {
      thrown = { error };
    }
    const response =
      thrown === null ? captureResponse(ctx, headerNames) : describeThrown(thrown.error).response;
    if (response.status === UNEXECUTED_STATUS) await deps.store.release(scope, key, deps.ownerId);
    else await deps.store.complete(scope, key, response);
    if (thrown !== null) throw thrown.error;
  };
};

/**
 * The request's Idempotency-Key, its scope (client, method, route template) and the fingerprint
 * of the request (sha256 of method, URL and exact body bytes); null once a missing or malformed
 * key has been answered (400).
 */
export const requestKeyOf = (
  ctx: Parameters<RouteMiddleware>[0],
): { scope: string; key: string; fingerprint: string } | null => {
  const key = ctx.get('Idempotency-Key');
  if (key === '') {
    sendError(ctx, 'idempotency_key_missing');
    return null;
  }
  if (!KEY_PATTERN.test(key)) {
    sendError(ctx, 'idempotency_key_invalid');
    return null;
  }
  const route = matchedRouteOf(ctx);
  const { rawBody } = ctx.state;
  assert(route !== null, 'an Idempotency-Key is read outside a router');
  assert(rawBody !== undefined, 'an Idempotency-Key needs jsonBody() or rawBody() before it');
  const scope = `${clientOf(ctx).clientId} ${ctx.method} ${route}`;
  return { scope, key, fingerprint: fingerprintOf(ctx.method, ctx.url, rawBody) };
};

/** Deletes expired keys every intervalMs (timer unref'd); returns the function that stops it. */
export const startIdempotencyPurge = (options: {
  store: Pick<IdempotencyStore, 'purgeOlderThan'>;
  retentionMs: number;
  intervalMs: number;
  nowMs: () => number;
  logger: Logger;
}): (() => void) => {
  const { store, retentionMs, nowMs, logger } = options;
  const purge = (): void => {
    store.purgeOlderThan(nowMs() - retentionMs).then(
      (deletedCount) => logger.debug('idempotency_keys_purged', { deletedCount }),
      (error: unknown) => logger.error('idempotency_purge_failed', { error: String(error) }),
    );
  };
  const timer = setInterval(purge, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
};

const fingerprintOf = (method: string, url: string, body: Buffer): string =>
  createHash('sha256').update(`${method}\n${url}\n`, 'utf8').update(body).digest('hex');

type RouteContext = Parameters<RouteMiddleware>[0];

const answerExisting = (ctx: RouteContext, begun: Exclude<BeginResult, 'started'>): void => {
  switch (begun.state) {
    case 'completed':
      serviceMetrics().idempotencyReplays.inc({ store: 'service' });
      sendResponse(ctx, begun.response);
      ctx.set('Idempotent-Replayed', 'true');
      return;
    case 'in_flight':
      serviceMetrics().idempotencyConflicts.inc({ reason: 'in_flight' });
      sendError(ctx, 'idempotency_key_in_flight');
      ctx.set('Retry-After', '1');
      return;
    case 'fingerprint_mismatch':
      serviceMetrics().idempotencyConflicts.inc({ reason: 'reused' });
      sendError(ctx, 'idempotency_key_reused');
      return;
  }
};

/** Streams and buffers cannot be replayed; command routes answer with the JSON envelope. */
const isJsonBody = (body: unknown): boolean =>
  body === undefined ||
  body === null ||
  (typeof body === 'object' && !Buffer.isBuffer(body) && !('pipe' in body));

const captureResponse = (ctx: RouteContext, headerNames: readonly string[]): StoredResponse => {
  const { body } = ctx;
  assert(isJsonBody(body), 'idempotent routes answer with JSON');
  const headers: Record<string, string> = {};
  for (const name of headerNames) {
    const value = ctx.response.get(name);
    if (typeof value === 'string' && value !== '') headers[name] = value;
  }
  return { status: ctx.status, body: body ?? null, headers };
};
