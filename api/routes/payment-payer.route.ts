import { serviceMetrics } from '../metrics';
import type { JSONSchemaType } from 'ajv';
import {
  paymentAggregate,
  paymentView,
  type PaymentRecord,
  type PaymentState,
} from '../../domain/payment/payment.decider';
import {
  hashStatusTicket,
  isWellFormedTicket,
  issueStatusTicket,
} from '../../domain/payment/status-ticket';
import type { CallbackReplayGuard } from '../../domain/ports/channel-callback.port';
import type { EventStore } from '../../domain/ports/event-store.port';
import type { PaymentChannelGateway } from '../../domain/ports/payment-channel.port';
import type { PaymentTicketStore } from '../../domain/ports/payment-ticket.port';
import { sendOk } from '../envelope';
import type { RouteMiddleware } from '../middleware/api-state';
import { validateQuery, type Validator } from '../middleware/validate';
import { sendError } from '../envelope';
import type { RouteKit } from '../route-kit';
import { positionJson, type LedgerServices } from './ledger-services';
import type { SandboxDesk } from '../../domain/ports/sandbox-desk.port';

const statusQuerySchema: JSONSchemaType<{ ticket: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['ticket'],
  properties: { ticket: { type: 'string', minLength: 1, maxLength: 128 } },
};

/** What the payment-channel routes need beside the ledger: built by bin/channels.ts. */
export type ChannelServices = {
  /** Outbound gateways by payment channel ('sandbox', 'wechat', 'alipay', 'stripe'). */
  gateways: ReadonlyMap<string, PaymentChannelGateway>;
  replayGuard: CallbackReplayGuard;
  tickets: PaymentTicketStore;
  /** The reconciliation reads payments from the log. */
  eventStore: EventStore;
  /** The sandbox channel's desk (order query, payer pays); absent: no sandbox routes. */
  sandbox?: SandboxDesk;
  /** SANDBOX_ENABLED: false, and test-mode keys create no payments (domain/mode/mode.ts). */
  sandboxEnabled: boolean;
};

type Ctx = Parameters<RouteMiddleware>[0];
type Found = { state: PaymentState; position: bigint | null };
type Helpers = {
  params: Validator<{ paymentId: string }>;
  writers: RouteMiddleware;
  visiblePayment: (ctx: Ctx, paymentId: string) => Promise<Found | null>;
};

/**
 * The payer's side of a payment: the channel order's parameters, one-time status tickets
 * (GET /payments/:id/status?ticket=…) and resume (POST /payments/:id/resume).
 */
export const registerPayerRoutes = (
  kit: RouteKit,
  services: LedgerServices,
  channels: ChannelServices,
  helpers: Helpers,
) => {
  const { params, writers, visiblePayment } = helpers;
  const statusQuery = validateQuery(statusQuerySchema);

  /** Creates (or re-creates) the channel order and issues a fresh status ticket. */
  const payerSide = async (state: PaymentRecord) => {
    const gateway = channels.gateways.get(state.channel);
    const order = {
      paymentId: state.paymentId,
      merchantOrderNo: state.merchantOrderNo,
      amountMinor: state.amountMinor,
      currency: state.currency,
      subject: state.subject,
      expiresAt: state.expiresAt,
    };
    const result = gateway === undefined ? null : await gateway.createOrder(order);
    const { ticket, expiresAt } = await issueStatusTicket(
      channels.tickets,
      state.paymentId,
      services.nowMs(),
    );
    return {
      payerParameters: result?.ok === true ? result.value.payerParameters : null,
      channelError:
        result === null
          ? 'channel not configured'
          : result.ok
            ? null
            : `${result.kind}: ${result.reason}`,
      statusTicket: ticket,
      statusTicketExpiresAt: expiresAt,
      result,
    };
  };

  kit.router.post(
    '/payments/:paymentId/resume',
    writers,
    params,
    kit.jsonBody({ required: false }),
    kit.idempotency(),
    async (ctx) => {
      const { paymentId } = params.read(ctx);
      const found = await visiblePayment(ctx, paymentId);
      if (found === null || found.state.status === 'none') return;
      const { state } = found;
      if (state.status !== 'pending' || Date.parse(state.expiresAt) <= services.nowMs()) {
        return sendError(ctx, 'payment_not_resumable', {
          data: { paymentId, status: state.status, expiresAt: state.expiresAt },
        });
      }
      if (!channels.gateways.has(state.channel))
        return sendError(ctx, 'channel_not_configured', { data: { channel: state.channel } });
      const { result, ...payer } = await payerSide(state);
      if (result !== null && !result.ok) {
        const name = result.kind === 'transient' ? 'channel_unavailable' : 'channel_refused';
        return sendError(ctx, name, { data: { paymentId, reason: result.reason } });
      }
      sendOk(ctx, {
        payment: paymentView(state),
        position: positionJson(found.position),
        ...payer,
      });
    },
  );

  /**
   * Payer-facing and without an API key: the one-time ticket is the credential. Called from the
   * merchant's page in a browser, so it (and only it) answers CORS for the allowed origins.
   */
  kit.publicRouter.options('/payments/:paymentId/status', kit.payerCors.preflight);
  kit.publicRouter.get(
    '/payments/:paymentId/status',
    kit.payerCors.actual,
    params,
    statusQuery,
    async (ctx) => {
      const { paymentId } = params.read(ctx);
      const { ticket } = statusQuery.read(ctx);
      const nowMs = services.nowMs();
      const wellFormed = isWellFormedTicket(ticket);
      const redemption = wellFormed
        ? await channels.tickets.redeem(hashStatusTicket(ticket), paymentId, nowMs)
        : 'unknown';
      if (redemption !== 'redeemed') {
        serviceMetrics().statusTicketFailures.inc({ reason: wellFormed ? 'refused' : 'malformed' });
        services.alerts?.raise('status_ticket_failures', paymentId);
        return sendError(ctx, 'status_ticket_invalid', { data: { paymentId } });
      }
      const { state } = await services.runtime.read(paymentAggregate, paymentId);
      if (state.status === 'none') {
        serviceMetrics().statusTicketFailures.inc({ reason: 'refused' });
        services.alerts?.raise('status_ticket_failures', paymentId);
        return sendError(ctx, 'status_ticket_invalid', { data: { paymentId } });
      }
      // The ticket is spent; a pending payment's payer gets the next one to keep polling.
      const next =
        state.status === 'pending'
          ? await issueStatusTicket(channels.tickets, paymentId, nowMs)
          : null;
      const { amountMinor, currency, expiresAt, status } = state;
      sendOk(ctx, {
        paymentId,
        status,
        amountMinor,
        currency,
        expiresAt,
        nextStatusTicket: next?.ticket ?? null,
      });
    },
  );

  return { payerSide };
};
