import { serviceMetrics } from '../metrics';
import type { JSONSchemaType } from 'ajv';
import {
  paymentAggregate,
  paymentChannels,
  paymentView,
  type PaymentChannel,
  type PaymentCommand,
} from '../../domain/payment/payment.decider';
import { paymentIdFor } from '../../domain/payment/payment-id';
import { channelModeRefusal, modeOfRecorded, type Mode } from '../../domain/mode/mode';
import { closedAtChannel } from './payment-close';
import { registerSandboxOrderRoutes } from './sandbox-orders.route';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams } from '../middleware/validate';
import {
  amountMinorSchema,
  currencySchema,
  descriptionSchema,
  idSchema,
  instantSchema,
} from '../schemas/common.schema';
import { visibleAccount } from './accounts.route';
import { positionJson, type LedgerServices } from './ledger-services';
import { registerPayerRoutes, type ChannelServices } from './payment-payer.route';
import { sendRejection } from './rejection';
import { holderSchema, holderView, sealHolder, type HolderBody } from '../personal-data';

type CreatePaymentBody = {
  merchantOrderNo: string;
  amountMinor: number;
  currency: string;
  channel: PaymentChannel;
  subject: string;
  creditAccountId: string;
  expiresAt?: string;
  merchantId?: string;
  holder?: HolderBody;
  notifyUrl?: string;
  returnUrl?: string;
  description?: string;
};
const paymentUrlSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 2048,
  pattern: '^https?://',
  nullable: true,
} as const;

/** How a payment's notifyUrl is checked (SSRF) and its signing secret made to exist. */
type NotifyTargets = {
  refusal: (url: string) => Promise<string | null>;
  ensureMerchantSecret: (merchant: { merchantId: string; mode: Mode }) => Promise<void>;
};
const createPaymentSchema: JSONSchemaType<CreatePaymentBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['merchantOrderNo', 'amountMinor', 'currency', 'channel', 'subject', 'creditAccountId'],
  properties: {
    merchantOrderNo: idSchema,
    amountMinor: amountMinorSchema,
    currency: currencySchema,
    channel: { type: 'string', enum: [...paymentChannels] },
    subject: { type: 'string', minLength: 1, maxLength: 128 },
    creditAccountId: idSchema,
    expiresAt: { ...instantSchema, nullable: true },
    merchantId: { ...idSchema, nullable: true },
    notifyUrl: paymentUrlSchema,
    returnUrl: paymentUrlSchema,
    description: { ...descriptionSchema, nullable: true },
    holder: { ...holderSchema, nullable: true },
  },
};
const refundSchema: JSONSchemaType<{ refundId: string; amountMinor: number; reason?: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['refundId', 'amountMinor'],
  properties: {
    refundId: idSchema,
    amountMinor: amountMinorSchema,
    reason: { ...descriptionSchema, nullable: true },
  },
};
const closeSchema: JSONSchemaType<{ reason?: string }> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: { reason: { ...descriptionSchema, nullable: true } },
};
const paymentParamsSchema: JSONSchemaType<{ paymentId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['paymentId'],
  properties: { paymentId: { type: 'string', format: 'uuid' } },
};

type Ctx = Parameters<Parameters<RouteKit['router']['post']>[1]>[0];

/**
 * Whether the client `clientId` (a merchant named, an account's owner) is in `mode`. A client
 * unknown to the store (a system account's owner) is live, as every client was before modes.
 */
const sameMode = async (kit: RouteKit, mode: Mode, clientId: string): Promise<boolean> =>
  ((await kit.clientStore.findById(clientId))?.mode ?? 'live') === mode;

export const paymentRoutes =
  (services: LedgerServices, channels?: ChannelServices, notify?: NotifyTargets): RouteRegistrar =>
  (kit: RouteKit) => {
    const create = validateBody(createPaymentSchema);
    const refund = validateBody(refundSchema);
    const close = validateBody(closeSchema, { optional: true });
    const params = validateParams(paymentParamsSchema);
    const writers = requireScope('payments:write');

    /** Admins and auditors see every payment of both modes; a merchant only its own. */
    const visiblePayment = async (ctx: Ctx, paymentId: string) => {
      const found = await services.runtime.read(paymentAggregate, paymentId);
      const client = clientOf(ctx);
      const privileged = client.role === 'admin' || client.role === 'auditor';
      const { state } = found;
      if (
        state.status === 'none' ||
        (!privileged &&
          (state.merchantId !== client.clientId ||
            modeOfRecorded(state.mode, state.channel) !== client.mode))
      ) {
        serviceMetrics().paymentLookupMisses.inc({ client: client.clientId });
        services.alerts?.raise('payment_lookup_misses', client.clientId);
        sendError(ctx, 'payment_not_found', { data: { paymentId } });
        return null;
      }
      return found;
    };

    const payer =
      channels === undefined
        ? null
        : registerPayerRoutes(kit, services, channels, { params, writers, visiblePayment });
    if (channels?.sandbox !== undefined)
      registerSandboxOrderRoutes(kit, channels.sandbox, { params, writers, visiblePayment });

    const run = async (
      ctx: Ctx,
      paymentId: string,
      command: PaymentCommand,
      createdStatus: 200 | 201,
    ) => {
      const context = commandContext(ctx, services.nowMs());
      const outcome = await services.runtime.execute(paymentAggregate, paymentId, command, context);
      if (!outcome.ok) return sendRejection(ctx, outcome.rejection, outcome.detail, { paymentId });
      sendOk(
        ctx,
        { payment: paymentView(outcome.state), position: positionJson(outcome.position) },
        outcome.eventCount > 0 ? createdStatus : 200,
      );
    };

    kit.router.post(
      '/payments',
      writers,
      kit.jsonBody(),
      create,
      kit.idempotency(),
      async (ctx) => {
        const {
          expiresAt: requestedExpiry,
          merchantId: requestedMerchant,
          holder: holderBody,
          ...terms
        } = create.read(ctx);
        const client = clientOf(ctx);
        if (requestedMerchant !== undefined && client.role !== 'admin') {
          return sendError(ctx, 'forbidden', {
            msg: 'only admins name another merchantId',
            data: { field: 'merchantId' },
          });
        }
        const merchantId = requestedMerchant ?? client.clientId;
        const sandboxEnabled = channels?.sandboxEnabled ?? true;
        const modeRefusal = channelModeRefusal(client.mode, terms.channel, sandboxEnabled);
        if (modeRefusal !== null)
          return sendError(ctx, modeRefusal, {
            data: { channel: terms.channel, mode: client.mode },
          });
        if (requestedMerchant !== undefined && !(await sameMode(kit, client.mode, merchantId)))
          return sendError(ctx, 'mode_mismatch', {
            data: { field: 'merchantId', mode: client.mode },
          });
        if (terms.notifyUrl !== undefined && notify !== undefined) {
          const reason = await notify.refusal(terms.notifyUrl);
          if (reason !== null)
            return sendError(ctx, 'webhook_url_refused', { data: { field: 'notifyUrl', reason } });
          await notify.ensureMerchantSecret({ merchantId, mode: client.mode });
        }
        const found = await visibleAccount(services, ctx, terms.creditAccountId);
        if (found === null) return;
        if (!(await sameMode(kit, client.mode, found.account.ownerClientId))) {
          const data = { field: 'creditAccountId', mode: client.mode };
          return sendError(ctx, 'mode_mismatch', { data });
        }
        if (found.account.currency !== terms.currency) {
          return sendRejection(
            ctx,
            'currency_mismatch',
            { accountCurrency: found.account.currency },
            { field: 'currency' },
          );
        }
        const paymentId = paymentIdFor(merchantId, terms.merchantOrderNo);
        const nowMs = services.nowMs();
        // A retried create without an explicit expiry keeps the first one, so it matches the stored terms.
        const existing = await services.runtime.read(paymentAggregate, paymentId);
        const defaultExpiry =
          existing.state.status === 'none'
            ? new Date(nowMs + services.paymentTtlMs).toISOString()
            : existing.state.expiresAt;
        const expiresAt =
          requestedExpiry === undefined ? defaultExpiry : new Date(requestedExpiry).toISOString();
        const holder = await sealHolder(services.personalData, holderBody);
        const data = {
          ...terms,
          paymentId,
          merchantId,
          mode: client.mode,
          expiresAt,
          now: new Date(nowMs).toISOString(),
          ...(holder === undefined ? {} : { holder }),
        };
        ctx.set('Location', `/v1/payments/${paymentId}`);
        await run(ctx, paymentId, { type: 'CreatePayment', data }, 201);
        const created = await services.runtime.read(paymentAggregate, paymentId);
        if (ctx.status >= 300 || created.state.status !== 'pending') return; // No order to pay.
        if (payer === null) return;
        const { result: _result, ...payerSide } = await payer.payerSide(created.state);
        sendOk(ctx, { ...(ctx.body as { data: object }).data, ...payerSide }, ctx.status);
      },
    );

    kit.router.get('/payments/:paymentId', requireScope('payments:read'), params, async (ctx) => {
      const { paymentId } = params.read(ctx);
      const found = await visiblePayment(ctx, paymentId);
      if (found === null) return;
      const sealed = found.state.status === 'none' ? undefined : found.state.holder;
      const holder = await holderView(ctx, services.personalData, sealed, {
        type: 'payment',
        id: paymentId,
      });
      sendOk(ctx, {
        payment: { ...paymentView(found.state), ...(holder === null ? {} : { holder }) },
        position: positionJson(found.position),
      });
    });

    kit.router.post(
      '/payments/:paymentId/close',
      writers,
      params,
      kit.jsonBody({ required: false }),
      close,
      kit.idempotency(),
      async (ctx) => {
        const { paymentId } = params.read(ctx);
        const found = await visiblePayment(ctx, paymentId);
        if (found === null) return;
        const reason = close.read(ctx)?.reason ?? 'closed by merchant';
        const gateway =
          found.state.status === 'pending'
            ? channels?.gateways.get(found.state.channel)
            : undefined;
        if (gateway !== undefined && !(await closedAtChannel(ctx, services, gateway, paymentId)))
          return;
        await run(
          ctx,
          paymentId,
          { type: 'ClosePayment', data: { reason, now: new Date(services.nowMs()).toISOString() } },
          200,
        );
      },
    );

    kit.router.post(
      '/payments/:paymentId/refunds',
      requireScope('refunds:write'),
      params,
      kit.jsonBody(),
      refund,
      kit.idempotency(),
      async (ctx) => {
        const { paymentId } = params.read(ctx);
        if ((await visiblePayment(ctx, paymentId)) === null) return;
        const { refundId, amountMinor, reason = '' } = refund.read(ctx);
        const data = {
          refundId,
          amountMinor,
          reason,
          now: new Date(services.nowMs()).toISOString(),
        };
        await run(ctx, paymentId, { type: 'RequestRefund', data }, 201);
      },
    );
  };
