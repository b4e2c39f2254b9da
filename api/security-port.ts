import { holdsScopeSomewhere } from '../domain/auth/grants';
import type { JsonObject } from '../domain/ports/event-store.port';
import type { SecurityEventKind } from '../domain/ports/security-event.port';
import type { ApiState } from './middleware/api-state';
import type { SecurityEventInput, SecurityRecorder } from './security/security-recorder';

export type SecurityEvent = SecurityEventInput;

/** What a security event takes from the request: who is authenticated, its id, its source IP. */
type SecurityEventContext = { state: ApiState; ip: string };

/**
 * The one path of a request's security events into the audit trail (authentication, tokens,
 * grants, signatures, rate limits, personal data), and whether a request may read personal data
 * in clear. createApp gets one and hands it to every middleware and route that records.
 */
export type SecurityPort = {
  /**
   * Records `kind` for this request: who (the authenticated client, else `clientIdClaimed`, whom
   * a refused credential claimed to be), the source IP, the correlation id (the request id);
   * when is the trail's clock. Fire and forget: never blocks, never throws. `detail` must hold no
   * secret, key or full card or ID number.
   */
  record(
    ctx: SecurityEventContext,
    kind: SecurityEventKind,
    detail: JsonObject,
    clientIdClaimed?: string | null,
  ): void;
  /** Writes the queued events now; throws the store's error (a grant change awaits it). */
  flush(): Promise<void>;
  /** True when the request holds `pii:read` (its role's default, a grant, or its token's scope). */
  mayReadPii(ctx: { state: ApiState }): boolean;
};

/** The real one: events go to the security audit trail; `pii:read` is a scope. */
export const trailSecurity = (
  recorder: Pick<SecurityRecorder, 'record' | 'flush'>,
): SecurityPort => ({
  record: (ctx, kind, detail, clientIdClaimed = null) =>
    recorder.record({
      kind,
      clientId: ctx.state.client?.clientId ?? clientIdClaimed,
      ip: ctx.ip === '' ? null : ctx.ip,
      requestId: ctx.state.requestId,
      detail,
    }),
  flush: () => recorder.flush(),
  mayReadPii: (ctx) =>
    ctx.state.access !== undefined && holdsScopeSomewhere(ctx.state.access, 'pii:read'),
});
