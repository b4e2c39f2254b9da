import type { JsonObject } from '../../domain/ports/event-store.port';
import type { SecurityEventKind } from '../../domain/ports/security-event.port';
import type { ApiState } from '../middleware/api-state';
import type { SecurityRecorder } from './security-recorder';

// Keyed by the Koa app, so that any middleware that only sees ctx reaches its app's recorder.
const recorderByApp = new WeakMap<object, SecurityRecorder>();

/** Binds the recorder to the app (createApp does it once). */
export const bindSecurityRecorder = (app: object, recorder: SecurityRecorder): void => {
  recorderByApp.set(app, recorder);
};

type RequestContext = { app: object; state: ApiState; ip: string };

/**
 * Records a security event for this request: who (the authenticated client, else
 * `clientIdClaimed`), the source IP (ctx.ip), the correlation id (the request id), and when.
 * Never blocks or throws; detail must hold no secret, key or full card or ID number.
 */
export const recordSecurityEvent = (
  ctx: RequestContext,
  kind: SecurityEventKind,
  detail: JsonObject,
  clientIdClaimed: string | null = null,
): void => {
  recorderByApp.get(ctx.app)?.record({
    kind,
    clientId: ctx.state.client?.clientId ?? clientIdClaimed,
    ip: ctx.ip === '' ? null : ctx.ip,
    requestId: ctx.state.requestId,
    detail,
  });
};

/** Writes the app's queued events now (after a grant change, before answering). */
export const flushSecurityEvents = async (ctx: { app: object }): Promise<void> => {
  await recorderByApp.get(ctx.app)?.flush();
};
