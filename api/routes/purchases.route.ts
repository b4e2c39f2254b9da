import type { JSONSchemaType } from 'ajv';
import type { AccountState } from '../../domain/account/account.decider';
import { assert } from '../../domain/assert';
import type { CommandContext } from '../../domain/actors/actor-runtime';
import { itemAggregate, saleWindowCheck, type ItemRecord } from '../../domain/item/item.decider';
import {
  buyerUnitsAccountOf,
  purchaseCommands,
  paymentExpiryOf,
  purchaseIdOf,
  saleRevenueAccountOf,
  stockAccountOf,
  stockViewOf,
  type PurchaseParty,
} from '../../domain/item/item-sale';
import type { LedgerOutcome } from '../../domain/ledger/ledger.decider';
import { paymentIdFor } from '../../domain/payment/payment-id';
import { channelModeRefusal, modeOfChannel } from '../../domain/mode/mode';
import {
  paymentAggregate,
  paymentChannels,
  paymentView,
  type PaymentChannel,
} from '../../domain/payment/payment.decider';
import type { StoredResponse } from '../../domain/ports/idempotency-store.port';
import { buyerDayAggregate, buyerDayIdOf } from '../../domain/risk/buyer-day';
import { dailyLimitOf, riskRefusalAggregate, type RiskRefusal } from '../../domain/risk/risk-rules';
import type { TransferState } from '../../domain/transfer/transfer.decider';
import { okEnvelope } from '../envelope';
import { errorCodes } from '../error-codes';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams } from '../middleware/validate';
import { idSchema } from '../schemas/common.schema';
import { executeLedgerRequest } from './ledger-answers';
import { itemIdSchema, itemParamsSchema, type SaleServices } from './items.route';
import { rejectionResponse, sendRejection } from './rejection';

type PurchaseBody = {
  buyerId: string;
  /** The buyer's device, for the per-device velocity rule. */
  deviceId?: string;
  /** The buyer's IP as the caller saw it; absent: the connection's. */
  buyerIp?: string;
  channel?: PaymentChannel;
};
const purchaseSchema: JSONSchemaType<PurchaseBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['buyerId'],
  properties: {
    buyerId: idSchema,
    deviceId: { ...idSchema, nullable: true },
    buyerIp: {
      type: 'string',
      anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }],
      nullable: true,
    },
    channel: { type: 'string', enum: [...paymentChannels], nullable: true },
  },
};
const orderParamsSchema: JSONSchemaType<{ itemId: string; buyerId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['itemId', 'buyerId'],
  properties: { itemId: itemIdSchema, buyerId: idSchema },
};
const buyerParamsSchema: JSONSchemaType<{ buyerId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['buyerId'],
  properties: { buyerId: idSchema },
};

type Ctx = Parameters<Parameters<RouteKit['router']['post']>[1]>[0];

/** A purchase as the buyer's side sees it: the hold and the payment that settles it. */
const orderView = (
  itemId: string,
  buyerId: string,
  hold: TransferState,
  party: PurchaseParty | null,
) => {
  const holdStatus = hold.status === 'none' ? 'none' : hold.status;
  return {
    purchaseId: purchaseIdOf(itemId, buyerId),
    itemId,
    buyerId,
    status: holdStatus === 'pending' ? 'held' : holdStatus === 'posted' ? 'paid' : holdStatus,
    expiresAt: hold.status === 'none' ? null : hold.expiresAt,
    paymentId:
      party === null ? null : paymentIdFor(party.merchantId, purchaseIdOf(itemId, buyerId)),
  };
};

const partyOf = (account: AccountState): PurchaseParty | null => {
  if (account.status === 'unopened') return null;
  const { buyerId, merchantId, channel } = account.metadata;
  const known = paymentChannels.find((name) => name === channel);
  if (buyerId === undefined || merchantId === undefined || known === undefined) return null;
  return { buyerId, merchantId, channel: known };
};

/**
 * The sale: POST /v1/items/{itemId}/purchases holds one unit for a buyer (201, with the payment
 * to pay); a buyer's purchase and a buyer's orders are read from the ledger.
 */
export const purchaseRoutes =
  (services: SaleServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const purchase = validateBody(purchaseSchema);
    const params = validateParams(itemParamsSchema);
    const orderParams = validateParams(orderParamsSchema);
    const buyerParams = validateParams(buyerParamsSchema);

    /**
     * The payment that settles a pending hold (created once: its id derives from the merchant and
     * the hold). It expires with the hold; the sale-settlement saga posts or voids the hold.
     */
    const ensurePayment = async (
      item: ItemRecord,
      party: PurchaseParty,
      hold: TransferState,
      context: CommandContext,
    ) => {
      if (hold.status !== 'pending' || hold.expiresAt === null || hold.terms.timeoutMs === null)
        return null;
      const merchantOrderNo = hold.terms.transferId;
      const paymentId = paymentIdFor(party.merchantId, merchantOrderNo);
      const data = {
        paymentId,
        merchantId: party.merchantId,
        merchantOrderNo,
        amountMinor: item.terms.priceMinor,
        currency: item.terms.currency,
        channel: party.channel,
        // The purchase route let only the channel's own mode buy through it.
        mode: modeOfChannel(party.channel),
        subject: `${item.terms.name} (flash sale)`.slice(0, 128),
        creditAccountId: saleRevenueAccountOf(item.terms.currency),
        expiresAt: paymentExpiryOf(hold.expiresAt, hold.terms.timeoutMs),
        now: context.now,
      };
      const outcome = await services.runtime.execute(
        paymentAggregate,
        paymentId,
        { type: 'CreatePayment', data },
        { ...context, eventIdSeed: `payment-${paymentId}:create` },
      );
      return outcome.ok ? paymentView(outcome.state) : null;
    };

    /** The answer to a purchase, stored with the hold under the request's Idempotency-Key. */
    const answerOf =
      (item: ItemRecord, party: PurchaseParty) =>
      (outcomes: readonly LedgerOutcome[]): StoredResponse => {
        const [opened, held] = outcomes;
        assert(opened !== undefined && held !== undefined, 'a purchase is two commands');
        const { itemId } = item.terms;
        // The buyer's unit account is opened only with a hold: opened with other terms (another
        // merchant or channel), it shows the buyer has their purchase. (When the hold fails, the
        // opening answers linked_transfer_failed and the hold its own reason.)
        if (!opened.ok && opened.rejection !== 'linked_transfer_failed')
          return opened.rejection === 'account_already_exists'
            ? rejectionResponse('already_purchased', {}, { itemId })
            : rejectionResponse(opened.rejection, opened.detail, { itemId });
        if (!held.ok)
          return held.rejection === 'insufficient_funds'
            ? rejectionResponse('sold_out', {}, { itemId })
            : rejectionResponse(held.rejection, held.detail, { itemId });
        assert(held.subject.kind === 'transfer', 'a purchase answers with its hold');
        const order = orderView(itemId, party.buyerId, held.subject.transfer, party);
        if (!held.changed) return rejectionResponse('already_purchased', {}, { itemId, order });
        return {
          status: 201,
          body: okEnvelope({ order, position: null }),
          headers: { location: `/v1/items/${itemId}/purchases/${party.buyerId}` },
        };
      };

    /** The buyer's purchase of an item: its hold, and the payment when there is one. */
    const readOrder = async (itemId: string, buyerId: string) => {
      const hold = (await services.ledger.transfer(purchaseIdOf(itemId, buyerId))).state;
      if (hold.status === 'none') return null;
      const account = (await services.ledger.account(buyerUnitsAccountOf(itemId, buyerId))).state;
      const party = partyOf(account);
      const order = orderView(itemId, buyerId, hold, party);
      const payment =
        order.paymentId === null
          ? null
          : paymentView((await services.runtime.read(paymentAggregate, order.paymentId)).state);
      return { order, payment, hold, party, merchantId: party?.merchantId ?? null };
    };

    /**
     * A repeat of a purchase still held re-creates its payment when it is missing (a crash
     * between the hold's commit and the payment's); the same payment again changes nothing.
     */
    const ensurePaymentOfRepeat = async (
      item: ItemRecord,
      buyerId: string,
      context: CommandContext,
    ): Promise<void> => {
      const found = await readOrder(item.terms.itemId, buyerId);
      if (found === null || found.party === null || found.payment !== null) return;
      await ensurePayment(item, found.party, found.hold, context);
    };

    /**
     * The item's price reserved on the buyer's day when a daily limit applies to its currency:
     * the one decision of the daily amount (domain/risk/buyer-day.ts). `buyerDayId` is set when
     * this request reserved it (not when the purchase had reserved it before).
     */
    const reserveDailyAmount = async (
      item: ItemRecord,
      buyerId: string,
      context: CommandContext,
    ): Promise<{ refused: number | null; buyerDayId: string | null }> => {
      const limit = dailyLimitOf(services.risk.rules(), item.terms.currency);
      if (limit === null) return { refused: null, buyerDayId: null };
      const buyerDayId = buyerDayIdOf(buyerId, context.now);
      const outcome = await services.runtime.execute(
        buyerDayAggregate,
        buyerDayId,
        {
          type: 'ReserveDailyAmount',
          data: {
            purchaseId: purchaseIdOf(item.terms.itemId, buyerId),
            currency: item.terms.currency,
            amountMinor: item.terms.priceMinor,
            amountMinorMax: limit.amountMinorMax,
          },
        },
        context,
      );
      if (!outcome.ok) return { refused: limit.amountMinorMax, buyerDayId: null };
      return { refused: null, buyerDayId: outcome.eventCount > 0 ? buyerDayId : null };
    };

    /**
     * Whether the buyer may hold a purchase of the item, from memory: its hold is pending on the
     * stock account, or the catalogue has seen it created. A purchase is created long before it
     * is paid or released, and the catalogue lags the log by a moment only once it has caught up
     * (until then: true), so "false" means none. It spares the sold-out answer a read of the
     * buyer's (absent) transfer stream.
     */
    const mayHavePurchase = (stock: AccountState, itemId: string, buyerId: string): boolean =>
      !services.catalogue.caughtUp() ||
      (stock.status === 'open' && stock.pendingLegs.has(purchaseIdOf(itemId, buyerId))) ||
      services.catalogue.itemIdsOfBuyer(buyerId).includes(itemId);

    kit.router.post(
      '/items/:itemId/purchases',
      requireScope('purchases:write'),
      params,
      kit.jsonBody(),
      purchase,
      kit.ledgerIdempotency(),
      async (ctx) => {
        const { itemId } = params.read(ctx);
        const body = purchase.read(ctx);
        const { mode } = clientOf(ctx);
        const channel = body.channel ?? 'sandbox';
        const modeRefusal = channelModeRefusal(mode, channel, services.sandboxEnabled ?? true);
        if (modeRefusal !== null) return sendError(ctx, modeRefusal, { data: { channel, mode } });
        const context = commandContext(ctx, services.nowMs());
        const item = (await services.runtime.read(itemAggregate, itemId)).state;
        const closed = saleWindowCheck(item, context.now);
        if (closed !== null || item.status === 'none')
          return sendRejection(ctx, closed ?? 'item_not_found', {}, { itemId });
        const ip = body.buyerIp ?? ctx.ip;
        const facts = { itemId, buyerId: body.buyerId, ip, deviceId: body.deviceId ?? null };
        /** Recorded before it is answered: the audit holds every refusal a client saw. */
        const refuse = async (refusal: RiskRefusal, limit: number): Promise<void> => {
          const code = errorCodes[refusal].code;
          await services.runtime.execute(
            riskRefusalAggregate,
            body.buyerId,
            {
              type: 'RecordRiskRefusal',
              data: { ...facts, refusal, code, limit, now: context.now },
            },
            context,
          );
          sendRejection(ctx, refusal, { limit }, facts);
        };
        const risk = services.risk.check({
          buyerId: body.buyerId,
          ip,
          deviceId: body.deviceId ?? null,
        });
        if (risk !== null) return refuse(risk.refusal, risk.limit);
        // Sold out as the ledger holds the stock now: answered without a write. The ledger's own
        // constraint still decides every purchase that finds a unit.
        // A buyer who has their purchase is told so first, as the ledger would.
        const stockAccount = (await services.ledger.account(stockAccountOf(itemId))).state;
        if (stockViewOf(stockAccount).availableUnits <= 0) {
          if (!mayHavePurchase(stockAccount, itemId, body.buyerId))
            return sendRejection(ctx, 'sold_out', {}, { itemId });
          const existing = await readOrder(itemId, body.buyerId);
          if (existing === null) return sendRejection(ctx, 'sold_out', {}, { itemId });
          sendRejection(ctx, 'already_purchased', {}, { itemId, order: existing.order });
          if (existing.party !== null && existing.payment === null)
            await ensurePayment(item, existing.party, existing.hold, context);
          return;
        }
        const reserved = await reserveDailyAmount(item, body.buyerId, context);
        if (reserved.refused !== null) return refuse('risk_buyer_daily_amount', reserved.refused);
        const party: PurchaseParty = {
          buyerId: body.buyerId,
          merchantId: clientOf(ctx).clientId,
          channel,
        };
        let hold: TransferState | null = null;
        await executeLedgerRequest(
          ctx,
          services,
          { commands: purchaseCommands(item.terms, party), context },
          (outcomes) => {
            const outcome = outcomes[1];
            if (outcome?.ok === true && outcome.subject.kind === 'transfer' && outcome.changed)
              hold = outcome.subject.transfer;
            return answerOf(item, party)(outcomes);
          },
        );
        if (hold === null) {
          // No hold made by this request: what it reserved of the buyer's day goes back.
          if (reserved.buyerDayId !== null)
            await services.runtime.execute(
              buyerDayAggregate,
              reserved.buyerDayId,
              {
                type: 'ReleaseDailyAmount',
                data: { purchaseId: purchaseIdOf(itemId, body.buyerId) },
              },
              context,
            );
          if ((ctx.body as { code?: number }).code === errorCodes.already_purchased.code)
            await ensurePaymentOfRepeat(item, body.buyerId, context);
          return;
        }
        const payment = await ensurePayment(item, party, hold, context);
        const answer = ctx.body as { data: Record<string, unknown> };
        sendOk(ctx, { ...answer.data, payment }, 201);
      },
    );

    const mayRead = (ctx: Ctx, merchantId: string | null): boolean => {
      const client = clientOf(ctx);
      return client.role === 'admin' || client.role === 'auditor' || client.clientId === merchantId;
    };

    const purchaseReaders = requireScope('purchases:read');
    kit.router.get(
      '/items/:itemId/purchases/:buyerId',
      purchaseReaders,
      orderParams,
      async (ctx) => {
        const { itemId, buyerId } = orderParams.read(ctx);
        const found = await readOrder(itemId, buyerId);
        if (found === null || !mayRead(ctx, found.merchantId))
          return sendError(ctx, 'purchase_not_found', { data: { itemId, buyerId } });
        sendOk(ctx, { order: found.order, payment: found.payment });
      },
    );

    kit.router.get('/buyers/:buyerId/orders', purchaseReaders, buyerParams, async (ctx) => {
      const { buyerId } = buyerParams.read(ctx);
      const itemIds = services.catalogue.itemIdsOfBuyer(buyerId);
      const found = await Promise.all(itemIds.map((itemId) => readOrder(itemId, buyerId)));
      const orders = found.flatMap((entry) =>
        entry !== null && mayRead(ctx, entry.merchantId)
          ? [{ ...entry.order, payment: entry.payment }]
          : [],
      );
      sendOk(ctx, { buyerId, orders });
    });
  };
