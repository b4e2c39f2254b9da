import type { JSONSchemaType } from 'ajv';
import type { ActorRuntime } from '../../domain/actors/actor-runtime';
import type { Ledger } from '../../domain/ledger/ledger';
import { assert } from '../../domain/assert';
import {
  PLAN_DURATION_DAYS_MAX,
  PLAN_DURATION_SECONDS_MAX,
  PLAN_PURCHASE_SAGA,
  PLAN_PURCHASE_STEPS,
  planDurationField,
  type Plan,
} from '../../domain/plan/plan';
import { planAggregate, type PlanChanges, type PlanRecord } from '../../domain/plan/plan.decider';
import { USER_LEVEL_MAX } from '../../domain/node/node.model';
import type { ItemCatalogue } from '../../projections/item-catalogue';
import { sagaAggregate, sagaKey } from '../../domain/saga/saga.decider';
import { DEFAULT_USER_GROUP } from '../../domain/traffic/traffic.model';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams, validateQuery } from '../middleware/validate';
import { amountMinorSchema, currencySchema, idSchema } from '../schemas/common.schema';
import { clientOf } from '../middleware/api-state';
import { sendError } from '../envelope';
import { maySee } from './account-visibility';
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

/** Bounds of a plan's terms (domain/plan/plan.ts checks the same on PLANS_FILE). */
const termSchemas = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  amountMinor: amountMinorSchema,
  currency: currencySchema,
  quotaBytes: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  durationDays: { type: 'integer', minimum: 1, maximum: PLAN_DURATION_DAYS_MAX },
  durationSeconds: { type: 'integer', minimum: 1, maximum: PLAN_DURATION_SECONDS_MAX },
  level: { type: 'integer', minimum: 0, maximum: USER_LEVEL_MAX },
  group: idSchema,
} as const;

const createPlanSchema: JSONSchemaType<Plan> = {
  type: 'object',
  additionalProperties: false,
  required: ['planId', 'name', 'amountMinor', 'currency', 'quotaBytes'],
  properties: {
    planId: idSchema,
    ...termSchemas,
    durationDays: { ...termSchemas.durationDays, nullable: true },
    durationSeconds: { ...termSchemas.durationSeconds, nullable: true },
    level: { ...termSchemas.level, nullable: true },
    group: { ...termSchemas.group, nullable: true },
  },
};

const updatePlanSchema: JSONSchemaType<PlanChanges> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  minProperties: 1,
  properties: {
    name: { ...termSchemas.name, nullable: true },
    amountMinor: { ...termSchemas.amountMinor, nullable: true },
    currency: { ...termSchemas.currency, nullable: true },
    quotaBytes: { ...termSchemas.quotaBytes, nullable: true },
    durationDays: { ...termSchemas.durationDays, nullable: true },
    durationSeconds: { ...termSchemas.durationSeconds, nullable: true },
    level: { ...termSchemas.level, nullable: true },
    group: { ...termSchemas.group, nullable: true },
  },
};

/**
 * A plan runs for durationDays or for durationSeconds, never both; a new plan names one. Checked
 * here rather than by the schema so the answer names the field.
 */
const durationProblem = (
  body: Pick<Plan, 'durationDays' | 'durationSeconds'>,
  required: boolean,
): { msg: string; field: string } | null => {
  if (body.durationDays !== undefined && body.durationSeconds !== undefined)
    return { msg: 'body.durationSeconds excludes body.durationDays', field: 'durationSeconds' };
  if (required && body.durationDays === undefined && body.durationSeconds === undefined)
    return {
      msg: 'body.durationDays (or body.durationSeconds) is required',
      field: 'durationDays',
    };
  return null;
};

const retireSchema: JSONSchemaType<{ reason?: string }> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: { reason: { type: 'string', minLength: 1, maxLength: 200, nullable: true } },
};

const listQuerySchema: JSONSchemaType<{ status?: 'listed' | 'retired' }> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: { status: { type: 'string', enum: ['listed', 'retired'], nullable: true } },
};

const planView = (record: PlanRecord) => ({
  ...record.plan,
  status: record.status,
  createdAt: record.createdAt,
  updatedAt: record.updatedAt,
  retiredAt: record.retiredAt,
});

type Ctx = Parameters<Parameters<RouteKit['router']['post']>[1]>[0];

/**
 * The plan catalogue and plan purchases: admins create, update and retire plans (POST /v1/plans,
 * PATCH /v1/plans/{planId}, POST /v1/plans/{planId}/retire); every client lists and reads them;
 * POST /v1/plans/{planId}/purchases buys a listed plan (202: the plan-purchase saga runs it).
 */
export const planRoutes =
  (deps: {
    runtime: ActorRuntime;
    ledger: Ledger;
    catalogue: Pick<ItemCatalogue, 'plans'>;
    nowMs: () => number;
  }): RouteRegistrar =>
  (kit: RouteKit) => {
    const purchase = validateBody(purchaseSchema);
    const params = validateParams(planParamsSchema);
    const create = validateBody(createPlanSchema);
    const update = validateBody(updatePlanSchema);
    const retire = validateBody(retireSchema, { optional: true });
    const list = validateQuery(listQuerySchema);
    const admins = requireScope('catalog:write');

    /** Runs a plan command and answers it: the plan after it, or the rejection. */
    const runPlan = async (
      ctx: Ctx,
      planId: string,
      command: Parameters<typeof planAggregate.decide>[0],
      createdStatus: 200 | 201,
    ): Promise<void> => {
      const context = commandContext(ctx, deps.nowMs());
      const outcome = await deps.runtime.execute(planAggregate, planId, command, context);
      if (!outcome.ok) return sendRejection(ctx, outcome.rejection, outcome.detail, { planId });
      assert(outcome.state.status !== 'none', 'a plan command that succeeded leaves a plan');
      ctx.set('Location', `/v1/plans/${planId}`);
      sendOk(
        ctx,
        { plan: planView(outcome.state), position: positionJson(outcome.position) },
        outcome.eventCount > 0 ? createdStatus : 200,
      );
    };

    kit.router.get('/plans', requireScope('catalog:read'), list, async (ctx) => {
      const { status } = list.read(ctx);
      const plans = deps.catalogue
        .plans()
        .filter((record) => status === undefined || record.status === status)
        .map(planView)
        .sort((a, b) => a.planId.localeCompare(b.planId));
      sendOk(ctx, { plans });
    });

    kit.router.get('/plans/:planId', requireScope('catalog:read'), params, async (ctx) => {
      const { planId } = params.read(ctx);
      const { state } = await deps.runtime.read(planAggregate, planId);
      if (state.status === 'none') return sendError(ctx, 'plan_not_found', { data: { planId } });
      sendOk(ctx, { plan: planView(state) });
    });

    kit.router.post('/plans', admins, kit.jsonBody(), create, kit.idempotency(), async (ctx) => {
      const plan = create.read(ctx);
      const problem = durationProblem(plan, true);
      if (problem !== null)
        return sendError(ctx, 'invalid_request', {
          msg: problem.msg,
          data: { field: problem.field },
        });
      const now = new Date(deps.nowMs()).toISOString();
      await runPlan(ctx, plan.planId, { type: 'CreatePlan', data: { plan, now } }, 201);
    });

    kit.router.patch(
      '/plans/:planId',
      admins,
      params,
      kit.jsonBody(),
      update,
      kit.idempotency(),
      async (ctx) => {
        const { planId } = params.read(ctx);
        const changes = update.read(ctx);
        const problem = durationProblem(changes, false);
        if (problem !== null)
          return sendError(ctx, 'invalid_request', {
            msg: problem.msg,
            data: { field: problem.field },
          });
        const now = new Date(deps.nowMs()).toISOString();
        await runPlan(ctx, planId, { type: 'UpdatePlan', data: { changes, now } }, 200);
      },
    );

    kit.router.post(
      '/plans/:planId/retire',
      admins,
      params,
      kit.jsonBody({ required: false }),
      retire,
      kit.idempotency(),
      async (ctx) => {
        const { planId } = params.read(ctx);
        const reason = retire.read(ctx)?.reason ?? 'retired by admin';
        const now = new Date(deps.nowMs()).toISOString();
        await runPlan(ctx, planId, { type: 'RetirePlan', data: { reason, now } }, 200);
      },
    );

    kit.router.post(
      '/plans/:planId/purchases',
      requireScope('purchases:write'),
      params,
      kit.jsonBody(),
      purchase,
      kit.idempotency(),
      async (ctx) => {
        const { planId } = params.read(ctx);
        const record = (await deps.runtime.read(planAggregate, planId)).state;
        if (record.status === 'none') return sendError(ctx, 'plan_not_found', { data: { planId } });
        if (record.status === 'retired') return sendRejection(ctx, 'plan_retired', {}, { planId });
        const { plan } = record;
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
          ...planDurationField(plan),
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
