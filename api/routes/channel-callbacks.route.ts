import type { ChannelNotification } from '../../domain/ports/channel-callback.port';
import { paymentAggregate, type PaymentCommand } from '../../domain/payment/payment.decider';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { sendError, sendOk } from '../envelope';
import { positionJson, type LedgerServices } from './ledger-services';
import { sendRejection } from './rejection';

/** Channels deliver callbacks without an API key; each verifier checks its own signature. */
const CHANNEL_ACTOR_ROLE = 'channel';

const commandOf = (notification: ChannelNotification, now: string): PaymentCommand => {
  if (notification.kind === 'refund') {
    const { kind: _kind, paymentId: _paymentId, ...result } = notification;
    return { type: 'RecordRefundResult', data: { ...result, now } };
  }
  const { kind: _kind, paymentId: _paymentId, ...result } = notification;
  return { type: 'RecordChannelResult', data: { ...result, now } };
};

export const channelCallbackRoutes =
  (services: LedgerServices): RouteRegistrar =>
  (kit: RouteKit) => {
    for (const verifier of services.channelVerifiers) {
      kit.publicRouter.post(`/channels/${verifier.channel}/callbacks`, kit.rawBody(), async (ctx) => {
        const nowMs = services.nowMs();
        const verified = verifier.verify(ctx.state.rawBody ?? Buffer.alloc(0), ctx.headers as Record<string, string | undefined>, nowMs);
        if (!verified.ok) {
          kit.logger.warn('channel_callback_refused', { channel: verifier.channel, refusal: verified.refusal, requestId: ctx.state.requestId, ip: ctx.ip });
          if (verified.refusal === 'malformed_callback') return sendError(ctx, 'invalid_request', { msg: verified.detail });
          return sendError(ctx, verified.refusal);
        }
        const { notification } = verified;
        const context = {
          correlationId: ctx.state.requestId,
          causationId: null,
          actor: { clientId: `channel:${verifier.channel}`, role: CHANNEL_ACTOR_ROLE, ip: ctx.ip === '' ? null : ctx.ip },
          idempotencyKey: null,
          now: new Date(nowMs).toISOString(),
          eventIdSeed: null,
        };
        const outcome = await services.runtime.execute(paymentAggregate, notification.paymentId, commandOf(notification, context.now), context);
        if (!outcome.ok) return sendRejection(ctx, outcome.rejection, outcome.detail, { paymentId: notification.paymentId });
        const status = outcome.state.status;
        sendOk(ctx, { paymentId: notification.paymentId, status, duplicate: outcome.eventCount === 0, position: positionJson(outcome.position) });
      });
    }
  };
