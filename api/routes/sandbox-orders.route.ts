import type { JSONSchemaType } from 'ajv';
import { sendError, sendOk } from '../envelope';
import type { RouteMiddleware } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, type Validator } from '../middleware/validate';
import type { RouteKit } from '../route-kit';
import type { SandboxDesk, SandboxOrder } from '../../domain/ports/sandbox-desk.port';

type Ctx = Parameters<RouteMiddleware>[0];
type Helpers = {
  params: Validator<{ paymentId: string }>;
  writers: RouteMiddleware;
  visiblePayment: (ctx: Ctx, paymentId: string) => Promise<object | null>;
};

const paySchema: JSONSchemaType<{ loseNotification?: boolean }> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: { loseNotification: { type: 'boolean', nullable: true } },
};

const orderView = (order: SandboxOrder) => ({
  paymentId: order.paymentId,
  status: order.status,
  amountMinor: order.amountMinor,
  currency: order.currency,
  channelTransactionId: order.transactionId,
  updatedAt: new Date(order.updatedAt).toISOString(),
});

/**
 * The sandbox channel seen from outside, for a tester: `GET /sandbox/orders/:paymentId` is its
 * order query (what `queryOrder` sees), `POST /sandbox/orders/:paymentId/pay` is the payer paying
 * it (refused once the order is closed, paid or failed, as a real channel refuses).
 * `loseNotification: true` pays it without the success callback, so only a query finds it paid.
 */
export const registerSandboxOrderRoutes = (kit: RouteKit, desk: SandboxDesk, helpers: Helpers) => {
  const { params, writers, visiblePayment } = helpers;
  const pay = validateBody(paySchema, { optional: true });

  const found = async (ctx: Ctx, paymentId: string): Promise<SandboxOrder | null> => {
    if ((await visiblePayment(ctx, paymentId)) === null) return null;
    const order = desk.order(paymentId);
    if (order === undefined) sendError(ctx, 'sandbox_order_not_found', { data: { paymentId } });
    return order ?? null;
  };

  kit.router.get(
    '/sandbox/orders/:paymentId',
    requireScope('payments:read'),
    params,
    async (ctx) => {
      const order = await found(ctx, params.read(ctx).paymentId);
      if (order !== null) sendOk(ctx, { order: orderView(order) });
    },
  );

  kit.router.post(
    '/sandbox/orders/:paymentId/pay',
    writers,
    params,
    kit.jsonBody({ required: false }),
    pay,
    kit.idempotency(),
    async (ctx) => {
      const { paymentId } = params.read(ctx);
      if ((await found(ctx, paymentId)) === null) return;
      const loseNotification = pay.read(ctx)?.loseNotification ?? false;
      const paid = desk.pay(paymentId, { loseNotification });
      if (!paid.ok) {
        const status = desk.order(paymentId)?.status ?? null;
        return sendError(ctx, 'sandbox_order_not_payable', {
          data: { paymentId, reason: paid.reason, status },
        });
      }
      const order = desk.order(paymentId);
      sendOk(ctx, {
        order: order === undefined ? null : orderView(order),
        notification: loseNotification ? 'lost' : 'queued',
      });
    },
  );
};
