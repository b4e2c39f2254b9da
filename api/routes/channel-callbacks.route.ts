import { Counter, register } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import type { CommandContext } from '../../domain/actors/actor-runtime';
import type { ChannelLogEvent } from '../../domain/payment/channel-log.decider';
import { recordChannelFact } from '../../domain/payment/channel-log.record';
import { modeOfChannel, modeOfRecorded } from '../../domain/mode/mode';
import {
  paymentAggregate,
  type PaymentCommand,
  type PaymentState,
} from '../../domain/payment/payment.decider';
import type {
  ChannelCallbackVerifier,
  ChannelNotification,
} from '../../domain/ports/channel-callback.port';
import type { Envelope } from '../envelope';
import { sendError, sendOk } from '../envelope';
import { errorCodes } from '../error-codes';
import type { ApiState, RouteMiddleware } from '../middleware/api-state';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { positionJson, type LedgerServices } from './ledger-services';
import type { ChannelServices } from './payment-payer.route';
import { sendRejection } from './rejection';

/** Channels deliver callbacks without an API key; each verifier checks its own signature. */
const CHANNEL_ACTOR_ROLE = 'channel';
/** Channel callbacks are a few KiB; larger bodies are refused before any parsing. */
const CALLBACK_BYTES_MAX = 64 * 1024;
const CALLBACKS_METRIC_NAME = 'channel_callbacks_total';
/** Refusals that mean a forged (or replayed-late) callback: alerted as a burst. */
const SIGNATURE_REFUSALS = new Set(['invalid_signature', 'stale_signature']);

/** One counter per process: every callback's outcome (applied, duplicate, replayed, flagged or the refusal). */
const callbackCounter = (): Counter<string> => {
  const existing = register.getSingleMetric(CALLBACKS_METRIC_NAME);
  if (existing instanceof Counter) return existing;
  return new Counter({
    name: CALLBACKS_METRIC_NAME,
    help: 'Channel callbacks by channel and outcome',
    labelNames: ['channel', 'outcome'],
  });
};

/** Field by field: an object rest (`{ kind, paymentId, ...result }`) costs microseconds in V8. */
const commandOf = (notification: ChannelNotification, now: string): PaymentCommand => {
  if (notification.kind === 'refund') {
    const { refundId } = notification;
    return {
      type: 'RecordRefundResult',
      data:
        notification.outcome === 'succeeded'
          ? { refundId, outcome: 'succeeded', channelRefundId: notification.channelRefundId, now }
          : { refundId, outcome: 'failed', failureReason: notification.failureReason, now },
    };
  }
  const { channelTransactionId } = notification;
  if (notification.outcome === 'failed') {
    const { failureReason } = notification;
    const data = { outcome: 'failed' as const, channelTransactionId, failureReason, now };
    return { type: 'RecordChannelResult', data };
  }
  const { amountMinor, currency, channelPaidAt } = notification;
  const paid = { outcome: 'succeeded' as const, channelTransactionId, amountMinor, currency, now };
  const data = channelPaidAt === undefined ? paid : { ...paid, channelPaidAt };
  return { type: 'RecordChannelResult', data };
};

type Ctx = Parameters<RouteMiddleware>[0];

const callbackContext = (ctx: Ctx, channel: string, nowMs: number): CommandContext => ({
  correlationId: ctx.state.requestId,
  causationId: null,
  actor: {
    clientId: `channel:${channel}`,
    role: CHANNEL_ACTOR_ROLE,
    ip: ctx.ip === '' ? null : ctx.ip,
  },
  idempotencyKey: null,
  now: new Date(nowMs).toISOString(),
  eventIdSeed: null,
});

/** The flag a success report raised, when it did not pay the payment. */
const raisedFlag = (notification: ChannelNotification, state: PaymentState) => {
  if (
    notification.kind !== 'payment' ||
    notification.outcome !== 'succeeded' ||
    state.status === 'none'
  )
    return null;
  const { channelTransactionId } = notification;
  if (state.status === 'succeeded' && state.paid.channelTransactionId === channelTransactionId)
    return null;
  return state.flags.find((flag) => flag.channelTransactionId === channelTransactionId) ?? null;
};

/**
 * Whether a callback may have been applied to the payment before. A replay key commits only in
 * the append of the events its callback produced (CommandContext.records), and every such event
 * leaves a payment pending no longer, flagged or refunding: an unknown payment, or a pending one
 * with no flag and no refund, holds no key. A stale view (another node appended) is caught by the actor's revision
 * check, which re-decides on what is stored.
 */
const mayHoldReplayKeys = (state: PaymentState): boolean =>
  state.status !== 'none' &&
  (state.status !== 'pending' || state.flags.length > 0 || Object.keys(state.refunds).length > 0);

/**
 * A verified callback moves only money of its own mode: the sandbox's callbacks pay test
 * payments only, a real channel's live payments only (domain/mode/mode.ts). Null: it may.
 */
const callbackModeRefusal = (channel: string, state: PaymentState) => {
  if (state.status === 'none') return null;
  const mode = modeOfRecorded(state.mode, state.channel);
  if (mode === modeOfChannel(channel)) return null;
  return mode === 'test' ? 'test_mode_channel_refused' : 'live_mode_sandbox_refused';
};

export const channelCallbackRoutes =
  (
    services: LedgerServices,
    channels: Pick<ChannelServices, 'replayGuard'> & { sandboxEnabled?: boolean },
  ): RouteRegistrar =>
  (kit: RouteKit) => {
    const counter = callbackCounter();
    const { replayGuard } = channels;
    /** Payment named by a verified callback, for the audit of a refusal that came after verification. */
    const verifiedPaymentIds = new WeakMap<object, string>();
    const record = (ctx: Ctx, id: string, event: ChannelLogEvent, nowMs: number) =>
      recordChannelFact(
        services.runtime,
        id,
        event,
        callbackContext(ctx, event.data.channel, nowMs),
      );

    /**
     * Outermost for each callback: every refusal leaves an audit event and a metric, and the answer
     * takes the channel's own acknowledgement format (the status is kept).
     */
    const answerAndAudit =
      (verifier: ChannelCallbackVerifier): RouteMiddleware =>
      async (ctx, next) => {
        await next();
        const envelope = ctx.body as Envelope;
        const accepted = ctx.status < 300;
        const refusal = accepted
          ? null
          : (Object.entries(errorCodes).find(([, spec]) => spec.code === envelope.code)?.[0] ??
            'unknown');
        if (refusal !== null) counter.inc({ channel: verifier.channel, outcome: refusal });
        if (refusal !== null && SIGNATURE_REFUSALS.has(refusal))
          services.alerts?.raise('callback_signature_failures', verifier.channel);
        // A rate-limited flood is a security event (recorded by the limiter), not one log event
        // per refused request: that would turn the flood into writes.
        if (refusal !== null && refusal !== 'rate_limited') {
          const paymentId = verifiedPaymentIds.get(ctx) ?? null;
          const data = {
            channel: verifier.channel,
            refusal,
            detail: envelope.msg,
            status: ctx.status,
            paymentId,
            requestId: ctx.state.requestId,
          };
          kit.logger.warn('channel_callback_refused', { ...data, ip: ctx.ip });
          await record(
            ctx,
            paymentId ?? uuidv7(),
            { type: 'ChannelCallbackRefused', data },
            services.nowMs(),
          );
        }
        if (verifier.acknowledge === null) return;
        const acknowledgement = verifier.acknowledge(accepted, envelope.msg);
        ctx.body = acknowledgement.body;
        ctx.type = acknowledgement.contentType;
      };

    /** Already applied: acknowledged so that the channel stops, nothing changed, the trace kept. */
    const answerReplayed = async (
      ctx: Ctx,
      channel: string,
      paymentId: string,
      nowMs: number,
      current: { state: PaymentState; position: bigint | null },
    ) => {
      counter.inc({ channel, outcome: 'replayed' });
      services.alerts?.raise('duplicate_callbacks', channel);
      const data = {
        channel,
        refusal: 'replayed',
        detail: 'replay key seen before',
        status: 200,
        paymentId,
        requestId: ctx.state.requestId,
      };
      await record(ctx, paymentId, { type: 'ChannelCallbackRefused', data }, nowMs);
      sendOk(ctx, {
        paymentId,
        status: current.state.status,
        duplicate: true,
        replayed: true,
        flagged: null,
        position: positionJson(current.position),
      });
    };

    const handle =
      (verifier: ChannelCallbackVerifier) =>
      async (ctx: Parameters<RouteMiddleware>[0] & { state: ApiState }) => {
        const nowMs = services.nowMs();
        const verified = verifier.verify(
          ctx.state.rawBody ?? Buffer.alloc(0),
          ctx.headers as Record<string, string | undefined>,
          nowMs,
        );
        if (verified.ok === 'no_effect') {
          counter.inc({ channel: verifier.channel, outcome: 'no_effect' });
          kit.logger.info('channel_callback_no_effect', {
            channel: verifier.channel,
            detail: verified.detail,
            requestId: ctx.state.requestId,
          });
          return sendOk(ctx, { acknowledged: true, applied: false, reason: verified.detail });
        }
        if (!verified.ok) {
          if (verified.refusal === 'malformed_callback')
            return sendError(ctx, 'invalid_request', { msg: verified.detail });
          return sendError(ctx, verified.refusal, {
            msg: `${errorCodes[verified.refusal].msg}: ${verified.detail}`,
          });
        }
        const { notification, replayKey } = verified;
        const { paymentId } = notification;
        verifiedPaymentIds.set(ctx, paymentId);
        const before = await services.runtime.read(paymentAggregate, paymentId);
        const modeRefusal = callbackModeRefusal(verifier.channel, before.state);
        if (modeRefusal !== null) return sendError(ctx, modeRefusal, { data: { paymentId } });
        // A payment that has taken no callback's events holds no replay key: its first delivery
        // skips the lookup, and a delivery that changed nothing asks after its decision instead.
        const lookedUp = mayHoldReplayKeys(before.state);
        if (lookedUp && (await replayGuard.seen(verifier.channel, replayKey)))
          return answerReplayed(ctx, verifier.channel, paymentId, nowMs, before);
        // The replay key commits in the payment's own append: one durable round per callback.
        const context = {
          ...callbackContext(ctx, verifier.channel, nowMs),
          records: [replayGuard.recordOf(verifier.channel, replayKey, nowMs)],
        };
        const outcome = await services.runtime.execute(
          paymentAggregate,
          paymentId,
          commandOf(notification, context.now),
          context,
        );
        const applied = outcome.ok && outcome.eventCount > 0;
        if (!applied && !lookedUp && (await replayGuard.seen(verifier.channel, replayKey)))
          return answerReplayed(ctx, verifier.channel, paymentId, nowMs, outcome);
        if (!outcome.ok)
          return sendRejection(ctx, outcome.rejection, outcome.detail, { paymentId });
        const flag = outcome.eventCount > 0 ? raisedFlag(notification, outcome.state) : null;
        if (flag !== null) {
          const { reason, channelTransactionId, amountMinor, currency } = flag;
          kit.logger.warn('channel_payment_flagged', {
            channel: verifier.channel,
            paymentId,
            reason,
            requestId: ctx.state.requestId,
          });
          await record(
            ctx,
            paymentId,
            {
              type: 'ChannelAlertRaised',
              data: {
                channel: verifier.channel,
                paymentId,
                reason,
                channelTransactionId,
                amountMinor,
                currency,
              },
            },
            nowMs,
          );
        }
        const duplicate = outcome.eventCount === 0;
        if (duplicate) services.alerts?.raise('duplicate_callbacks', verifier.channel);
        counter.inc({
          channel: verifier.channel,
          outcome: flag !== null ? 'flagged' : duplicate ? 'duplicate' : 'applied',
        });
        sendOk(ctx, {
          paymentId,
          status: outcome.state.status,
          duplicate,
          replayed: false,
          flagged: flag?.reason ?? null,
          position: positionJson(outcome.position),
        });
      };

    // Switched off, the sandbox's callback route says so instead of a bare route_not_found.
    if (channels.sandboxEnabled === false)
      kit.publicRouter.post('/channels/sandbox/callbacks', (ctx) =>
        sendError(ctx, 'sandbox_disabled'),
      );
    for (const verifier of services.channelVerifiers) {
      const path = `/channels/${verifier.channel}/callbacks`;
      kit.publicRouter.post(
        path,
        answerAndAudit(verifier),
        kit.callbackLimit(verifier.channel),
        kit.rawBody({ bytesMax: CALLBACK_BYTES_MAX }),
        handle(verifier),
      );
    }
  };
