import { assert } from '../../domain/assert';
import type { StoredIdempotencyRecord } from '../../domain/ports/event-store.port';
import type { StoredResponse } from '../../domain/ports/idempotency-store.port';
import { sendError, sendResponse } from '../envelope';
import { serviceMetrics } from '../metrics';
import type { ApiState, RouteMiddleware } from './api-state';
import { requestKeyOf } from './idempotency';

/** The request's key as the ledger stores it, in the same commit as the request's events. */
type LedgerKey = { scope: string; key: string; fingerprint: string; createdAtMs: number };

type LedgerIdempotencyDeps = {
  /** The event store's record of a key (appendMulti writes them). */
  readRecord: (scope: string, key: string) => Promise<StoredIdempotencyRecord | null>;
  nowMs: () => number;
};

/** Where ledgerIdempotency() leaves the key for the route. */
const keyOfRequest = new WeakMap<ApiState, LedgerKey>();

/** The key ledgerIdempotency() checked for this request; a route without it is a bug. */
export const ledgerKeyOf = (ctx: { state: ApiState }): LedgerKey => {
  const key = keyOfRequest.get(ctx.state);
  assert(key !== undefined, 'route reads the ledger key without ledgerIdempotency()');
  return key;
};

/** A stored answer with the position of the commit that wrote it, as the client gets it. */
export const withPosition = (response: StoredResponse, position: bigint | null): StoredResponse => {
  const body = response.body;
  if (typeof body !== 'object' || body === null || !('data' in body)) return response;
  const data: unknown = body.data;
  if (typeof data !== 'object' || data === null || !('position' in data)) return response;
  const filled = { ...data, position: position === null ? null : position.toString() };
  return { ...response, body: { ...body, data: filled } };
};

/** Answers with a stored record: a replay when the body is the same, else 422. */
export const answerRecord = (
  ctx: Parameters<RouteMiddleware>[0],
  record: StoredIdempotencyRecord,
  fingerprint: string,
): void => {
  const metrics = serviceMetrics();
  if (record.fingerprint !== fingerprint) {
    metrics.idempotencyConflicts.inc({ reason: 'reused' });
    return sendError(ctx, 'idempotency_key_reused');
  }
  metrics.idempotencyReplays.inc({ store: 'event_store' });
  sendResponse(ctx, withPosition(record.response, record.position));
  ctx.set('Idempotent-Replayed', 'true');
};

/**
 * Idempotency-Key for the commands the ledger decides. Unlike idempotency(), it writes nothing:
 * the ledger stores the key with the request's events in one atomic append, so a request costs
 * one durable commit and a key exists exactly when its request's effects do. Here a key already
 * stored is replayed (or 422 for another body), and a key in flight in this process is 409; two
 * instances racing on one key both decide, the append stores one, and the other replays it.
 */
export const ledgerIdempotency = (deps: LedgerIdempotencyDeps): RouteMiddleware => {
  const inFlight = new Set<string>();
  return async (ctx, next) => {
    const requestKey = requestKeyOf(ctx);
    if (requestKey === null) return;
    const { scope, key, fingerprint } = requestKey;
    const flightKey = `${scope}\n${key}`;
    if (inFlight.has(flightKey)) {
      serviceMetrics().idempotencyConflicts.inc({ reason: 'in_flight' });
      sendError(ctx, 'idempotency_key_in_flight');
      ctx.set('Retry-After', '1');
      return;
    }
    const stored = await deps.readRecord(scope, key);
    if (stored !== null) return answerRecord(ctx, stored, fingerprint);
    inFlight.add(flightKey);
    keyOfRequest.set(ctx.state, { scope, key, fingerprint, createdAtMs: deps.nowMs() });
    try {
      await next();
    } finally {
      inFlight.delete(flightKey);
    }
  };
};
