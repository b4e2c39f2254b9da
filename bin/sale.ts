import type { RouteRegistrar } from '../api/route-kit';
import { createRiskGuard } from '../api/risk-guard';
import { itemRoutes } from '../api/routes/items.route';
import type { SecurityAudit } from '../api/routes/ledger-services';
import { purchaseRoutes } from '../api/routes/purchases.route';
import { riskRuleRoutes } from '../api/routes/risk-rules.route';
import type { ActorRuntime } from '../domain/actors/actor-runtime';
import type { Ledger } from '../domain/ledger/ledger';
import type { EventStore } from '../domain/ports/event-store.port';
import { RISK_RULES_ID, riskRulesAggregate } from '../domain/risk/risk-rules';
import { createItemCatalogue } from '../projections/item-catalogue';

/** Fixed by design: buyers, IPs and devices whose recent attempts the risk guard keeps. */
const SALE_LIMITS = { riskKeyCountMax: 200_000 };

/** The catalogue, the flash sale and its risk rules: their routes and what they follow. */
export const startSale = async (deps: {
  store: EventStore;
  runtime: ActorRuntime;
  ledger: Ledger;
  nowMs: () => number;
  audit?: SecurityAudit;
}): Promise<{ routes: readonly RouteRegistrar[]; stop: () => Promise<void> }> => {
  const catalogue = createItemCatalogue({ store: deps.store });
  catalogue.start();
  const stored = await deps.runtime.read(riskRulesAggregate, RISK_RULES_ID);
  const risk = createRiskGuard({
    rules: stored.state.rules,
    nowMs: deps.nowMs,
    limits: { keyCountMax: SALE_LIMITS.riskKeyCountMax },
  });
  const services = { ...deps, catalogue, risk };
  return {
    routes: [itemRoutes(services), purchaseRoutes(services), riskRuleRoutes(services)],
    stop: () => catalogue.stop(),
  };
};
