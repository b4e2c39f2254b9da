import { sendError } from './envelope';
import { serviceMetrics } from './metrics';
import type { AppMiddleware } from './middleware/api-state';

/**
 * The stop's first step, seen by the app: once started, every new request (also one arriving on
 * a kept-alive connection) is refused with 503 `draining` and `Connection: close`, and open
 * streams (SSE) are told to send their last event and end. Requests already past the gate finish.
 */
export type Drain = {
  draining(): boolean;
  start(): void;
  /** Calls `listener` when the drain starts (at once if it has); returns the unsubscribe. */
  onStart(listener: () => void): () => void;
};

export const createDrain = (): Drain => {
  const listeners = new Set<() => void>();
  let started = false;
  return {
    draining: () => started,
    start: () => {
      if (started) return;
      started = true;
      [...listeners].forEach((listener) => listener());
      listeners.clear();
    },
    onStart: (listener) => {
      if (started) {
        listener();
        return () => undefined;
      }
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
};

/** The gate: answers 503 `draining` with `Connection: close` once the drain has started. */
export const refuseWhileDraining =
  (drain: Drain): AppMiddleware =>
  async (ctx, next) => {
    if (!drain.draining()) return next();
    serviceMetrics().refusals.inc({ reason: 'draining' });
    ctx.set('Connection', 'close');
    ctx.set('Retry-After', '1');
    sendError(ctx, 'draining');
  };
