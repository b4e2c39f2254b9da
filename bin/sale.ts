import type { RouteRegistrar } from '../api/route-kit';
import { createRiskGuard } from '../api/risk-guard';
import { startRiskJournal } from '../api/risk-journal';
import { itemRoutes } from '../api/routes/items.route';
import type { SecurityAudit } from '../api/routes/ledger-services';
import { planRoutes } from '../api/routes/plans.route';
import { purchaseRoutes } from '../api/routes/purchases.route';
import { riskRuleRoutes } from '../api/routes/risk-rules.route';
import type { ActorRuntime, CommandContext } from '../domain/actors/actor-runtime';
import type { Ledger } from '../domain/ledger/ledger';
import type { Plan } from '../domain/plan/plan';
import {
  PLAN_SEED_ID,
  planAggregate,
  planSeedAggregate,
  samePlanTerms,
} from '../domain/plan/plan.decider';
import type { EventStore } from '../domain/ports/event-store.port';
import { RISK_RULES_ID, riskRulesAggregate } from '../domain/risk/risk-rules';
import { createItemCatalogue } from '../projections/item-catalogue';

/** Fixed by design: the risk guard's keys, and how its attempts are journaled and replayed. */
const SALE_LIMITS = {
  riskKeyCountMax: 200_000,
  riskJournalFlushMs: 200,
  /** The longest window a velocity rule may have (api/routes/risk-rules.route.ts). */
  riskJournalLookBackMs: 24 * 3600 * 1000,
  riskAttemptsPerEventMax: 1000,
};

/** What the sale logs through (a winston Logger is one). */
type SaleLog = {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
};

const systemContext = (nowMs: number, what: string): CommandContext => ({
  correlationId: `${what}-${nowMs}`,
  causationId: null,
  actor: { clientId: 'system:catalogue', role: 'system', ip: null },
  idempotencyKey: null,
  now: new Date(nowMs).toISOString(),
  eventIdSeed: null,
});

/**
 * PLANS_FILE (or the demo plans) seeds the plan catalogue once: each plan is created (the same
 * terms again change nothing), then the seed is recorded. Once recorded, the file is not read
 * again: plans are managed through /v1/plans, and a file whose plans differ from the live ones is
 * named in a warning, never applied.
 */
export const seedPlans = async (deps: {
  runtime: ActorRuntime;
  plans: readonly Plan[];
  nowMs: number;
  logger: SaleLog;
}): Promise<'seeded' | 'already_seeded'> => {
  const context = systemContext(deps.nowMs, 'plan-seed');
  const seed = await deps.runtime.read(planSeedAggregate, PLAN_SEED_ID);
  if (seed.state.seededAt !== null) {
    const differing: string[] = [];
    for (const plan of deps.plans) {
      const live = (await deps.runtime.read(planAggregate, plan.planId)).state;
      if (live.status === 'none' || !samePlanTerms(live.plan, plan)) differing.push(plan.planId);
    }
    if (differing.length > 0)
      deps.logger.warn('plans_file_ignored', {
        reason: 'the plan catalogue was seeded before; manage plans through /v1/plans',
        seededAt: seed.state.seededAt,
        planIds: differing,
      });
    return 'already_seeded';
  }
  for (const plan of deps.plans) {
    const outcome = await deps.runtime.execute(
      planAggregate,
      plan.planId,
      { type: 'CreatePlan', data: { plan, now: context.now } },
      context,
    );
    if (!outcome.ok)
      deps.logger.warn('plan_seed_skipped', { planId: plan.planId, rejection: outcome.rejection });
  }
  const planIds = deps.plans.map((plan) => plan.planId);
  await deps.runtime.execute(
    planSeedAggregate,
    PLAN_SEED_ID,
    { type: 'MarkPlanCatalogueSeeded', data: { planIds, now: context.now } },
    context,
  );
  deps.logger.info('plans_seeded', { planIds });
  return 'seeded';
};

/** The catalogue (items and plans), the flash sale and its risk rules: routes and followers. */
export const startSale = async (deps: {
  store: EventStore;
  runtime: ActorRuntime;
  ledger: Ledger;
  nowMs: () => number;
  /** PLANS_FILE's plans (or the demo plans): they seed the plan catalogue on first start. */
  seedPlans: readonly Plan[];
  logger: SaleLog;
  audit?: SecurityAudit;
  sandboxEnabled: boolean;
}): Promise<{ routes: readonly RouteRegistrar[]; stop: () => Promise<void> }> => {
  await seedPlans({
    runtime: deps.runtime,
    plans: deps.seedPlans,
    nowMs: deps.nowMs(),
    logger: deps.logger,
  });
  const catalogue = createItemCatalogue({ store: deps.store });
  catalogue.start();
  const stored = await deps.runtime.read(riskRulesAggregate, RISK_RULES_ID);
  const risk = createRiskGuard({
    rules: stored.state.rules,
    nowMs: deps.nowMs,
    limits: { keyCountMax: SALE_LIMITS.riskKeyCountMax },
  });
  const journal = await startRiskJournal({
    store: deps.store,
    runtime: deps.runtime,
    guard: risk,
    nowMs: deps.nowMs,
    limits: {
      flushMs: SALE_LIMITS.riskJournalFlushMs,
      lookBackMs: SALE_LIMITS.riskJournalLookBackMs,
      attemptsPerEventMax: SALE_LIMITS.riskAttemptsPerEventMax,
    },
    onError: (error) => deps.logger.warn('risk_journal_flush_failed', { error }),
  });
  if (journal.replayedCount > 0)
    deps.logger.info('risk_attempts_replayed', { attemptCount: journal.replayedCount });
  const services = { ...deps, catalogue, risk };
  return {
    routes: [
      itemRoutes(services),
      purchaseRoutes(services),
      riskRuleRoutes(services),
      planRoutes(services),
    ],
    stop: async () => {
      await journal.stop();
      await catalogue.stop();
    },
  };
};
