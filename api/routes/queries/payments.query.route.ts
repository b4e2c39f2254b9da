import { serviceMetrics } from '../../metrics';
import type { JSONSchemaType } from 'ajv';
import { modes } from '../../../domain/mode/mode';
import { paymentChannels } from '../../../domain/payment/payment.model';
import { PAYMENTS, REFUNDS } from '../../../projections/payments.projection';
import { sendError, sendOk } from '../../envelope';
import { clientOf } from '../../middleware/api-state';
import { requireScope } from '../../middleware/require-scope';
import { validateParams, validateQuery } from '../../middleware/validate';
import type { RouteKit, RouteRegistrar } from '../../route-kit';
import { idSchema } from '../../schemas/common.schema';
import {
  commonQueryProperties,
  findDocument,
  findPage,
  instantFilterSchema,
  prepareQuery,
  rangeOf,
  seesAll,
  type CommonQuery,
  type QueryDeps,
} from './query-kit';

/**
 * Payments filterable by merchant, mode, status, channel and creation time; refunds per payment.
 * A merchant sees its own payments of its own mode only; `mode` filters for admins and auditors.
 */
type PaymentsQuery = CommonQuery & {
  merchant_id?: string;
  mode?: string;
  status?: string;
  channel?: string;
  created_from?: string;
  created_to?: string;
};

const paymentsSchema: JSONSchemaType<PaymentsQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...commonQueryProperties,
    merchant_id: { ...idSchema, nullable: true },
    mode: { type: 'string', enum: [...modes], nullable: true },
    status: {
      type: 'string',
      enum: ['pending', 'succeeded', 'failed', 'closed', 'expired'],
      nullable: true,
    },
    channel: { type: 'string', enum: [...paymentChannels], nullable: true },
    created_from: instantFilterSchema,
    created_to: instantFilterSchema,
  },
};
const refundsSchema: JSONSchemaType<CommonQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: commonQueryProperties,
};
const paymentParams: JSONSchemaType<{ paymentId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['paymentId'],
  properties: { paymentId: { type: 'string', format: 'uuid' } },
};

export const paymentQueryRoutes =
  (deps: QueryDeps): RouteRegistrar =>
  (kit: RouteKit) => {
    const readers = requireScope('payments:read');
    const payments = validateQuery(paymentsSchema);
    const refunds = validateQuery(refundsSchema);
    const params = validateParams(paymentParams);

    kit.router.get('/payments', readers, payments, async (ctx) => {
      const query = payments.read(ctx);
      const { clientId: own, mode: ownMode } = clientOf(ctx);
      if (!seesAll(ctx) && query.merchant_id !== undefined && query.merchant_id !== own) {
        sendError(ctx, 'forbidden', { msg: 'merchants see only their own payments' });
        return;
      }
      const generation = await prepareQuery(deps, ctx, query);
      if (generation === null) return;
      const where = {
        merchantId: seesAll(ctx) ? query.merchant_id : own,
        mode: seesAll(ctx) ? query.mode : ownMode,
        status: query.status,
        channel: query.channel,
      };
      const range = rangeOf('createdAt', query.created_from, query.created_to);
      sendOk(
        ctx,
        await findPage(deps, generation, PAYMENTS, query, {
          where,
          range,
          orderBy: { field: 'createdAt', direction: 'desc' },
        }),
      );
    });

    kit.router.get('/payments/:paymentId/refunds', readers, params, refunds, async (ctx) => {
      const query = refunds.read(ctx);
      const { paymentId } = params.read(ctx);
      const generation = await prepareQuery(deps, ctx, query);
      if (generation === null) return;
      const payment = await findDocument(deps, generation, PAYMENTS, paymentId);
      const { clientId, mode } = clientOf(ctx);
      const own = payment?.['merchantId'] === clientId && payment['mode'] === mode;
      if (payment === null || (!seesAll(ctx) && !own)) {
        serviceMetrics().paymentLookupMisses.inc({ client: clientOf(ctx).clientId });
        sendError(ctx, 'payment_not_found', { data: { paymentId } });
        return;
      }
      sendOk(
        ctx,
        await findPage(deps, generation, REFUNDS, query, {
          where: { paymentId },
          range: null,
          orderBy: { field: 'requestedAt', direction: 'desc' },
        }),
      );
    });
  };
