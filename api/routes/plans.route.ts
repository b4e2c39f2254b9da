import type { JSONSchemaType } from 'ajv';
import type { ActorRuntime } from '../../domain/actors/actor-runtime';
import type { Ledger } from '../../domain/ledger/ledger';
import { PLAN_PURCHASE_SAGA, PLAN_PURCHASE_STEPS, type Plan } from '../../domain/plan/plan';
import { sagaAggregate, sagaKey } from '../../domain/saga/saga.decider';
import { DEFAULT_USER_GROUP } from '../../domain/traffic/traffic.model';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams } from '../middleware/validate';
import { idSchema } from '../schemas/common.schema';
import { clientOf } from '../middleware/api-state';
import { sendError } from '../envelope';
import { maySee } from './accounts.route';
import { positionJson } from './ledger-services';
import { sendRejection } from './rejection';
import { sagaStatusUrl, sagaView } from './saga-view';

type PurchaseBody = { purchaseId: string; walletAccountId: string; userId: string };
const purchaseSchema: JSONSchemaType<PurchaseBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['purchaseId', 'walletAccountId', 'userId'],
  properties: { purchaseId: idSchema, walletAccountId: idSchema, userId: idSchema },
};
const planParamsSchema: JSONSchemaType<{ planId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['planId'],
  properties: { planId: idSchema },
};

/** GET /v1/plans and POST /v1/plans/{planId}/purchases (202: the plan-purchase saga runs it). */
export const planRoutes =
  (deps: {
    runtime: ActorRuntime;
    ledger: Ledger;
    plans: readonly Plan[];
    nowMs: () => number;
  }): RouteRegistrar =>
  (kit: RouteKit) => {
    const purchase = validateBody(purchaseSchema);
    const params = validateParams(planParamsSchema);

    kit.router.get('/plans', requireScope('catalog:read'), async (ctx) => {
      sendOk(ctx, { plans: deps.plans });
    });

    kit.router.post(
      '/plans/:planId/purchases',
      requireScope('purchases:write'),
      params,
      kit.jsonBody(),
      purchase,
      kit.idempotency(),
      async (ctx) => {
        const { planId } = params.read(ctx);
        const plan = deps.plans.find((candidate) => candidate.planId === planId);
        if (plan === undefined) return sendError(ctx, 'plan_not_found', { data: { planId } });
        const { purchaseId, walletAccountId, userId } = purchase.read(ctx);
        const wallet = (await deps.ledger.account(walletAccountId)).state;
        if (wallet.status === 'unopened' || !maySee(clientOf(ctx), wallet))
          return sendError(ctx, 'account_not_found', { data: { accountId: walletAccountId } });
        if (wallet.currency !== plan.currency)
          return sendRejection(
            ctx,
            'currency_mismatch',
            { accountCurrency: wallet.currency },
            { field: 'walletAccountId' },
          );
        const context = commandContext(ctx, deps.nowMs());
        const input = {
          purchaseId,
          planId,
          walletAccountId,
          userId,
          amountMinor: plan.amountMinor,
          currency: plan.currency,
          quotaBytes: plan.quotaBytes,
          durationDays: plan.durationDays,
          level: plan.level ?? 0,
          group: plan.group ?? DEFAULT_USER_GROUP,
          requestedAt: context.now,
        };
        const existing = await deps.runtime.read(
          sagaAggregate,
          sagaKey(PLAN_PURCHASE_SAGA, purchaseId),
        );
        // A retried purchase keeps its first request time, so its input matches the stored one.
        const requestedAt =
          existing.state.status === 'none'
            ? context.now
            : (existing.state.input['requestedAt'] ?? context.now);
        const command = {
          type: 'StartSaga' as const,
          data: {
            sagaName: PLAN_PURCHASE_SAGA,
            sagaId: purchaseId,
            input: { ...input, requestedAt },
            stepNames: PLAN_PURCHASE_STEPS,
            now: context.now,
          },
        };
        const outcome = await deps.runtime.execute(
          sagaAggregate,
          sagaKey(PLAN_PURCHASE_SAGA, purchaseId),
          command,
          { ...context, eventIdSeed: `saga-${sagaKey(PLAN_PURCHASE_SAGA, purchaseId)}:start` },
        );
        if (!outcome.ok || outcome.state.status === 'none')
          return sendError(ctx, 'saga_already_exists', { data: { purchaseId } });
        ctx.set('Location', sagaStatusUrl(PLAN_PURCHASE_SAGA, purchaseId));
        sendOk(
          ctx,
          { saga: sagaView(outcome.state), position: positionJson(outcome.position) },
          202,
        );
      },
    );
  };
