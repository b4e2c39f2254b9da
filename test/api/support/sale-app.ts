import { createSqliteCheckpointStore } from '../../../adapters/checkpoints/sqlite.checkpoint-store';
import { createSqliteEventStore } from '../../../adapters/eventstore/sqlite.event-store';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import { createRiskGuard } from '../../../api/risk-guard';
import { itemRoutes } from '../../../api/routes/items.route';
import { securityAuditRoutes, type SecurityAudit } from '../../../api/routes/ledger-services';
import { purchaseRoutes } from '../../../api/routes/purchases.route';
import { riskRuleRoutes } from '../../../api/routes/risk-rules.route';
import { createLedgerDeadlines } from '../../../domain/ledger/ledger-deadlines';
import type { JsonObject } from '../../../domain/ports/event-store.port';
import { NO_RISK_RULES } from '../../../domain/risk/risk-rules';
import { createItemCatalogue } from '../../../projections/item-catalogue';
import { eventually } from '../../support/eventually';
import { createLedger, type Ledger } from '../../support/ledger-harness';
import { bearer, createTestApp, type TestApp } from './test-app';

export type SaleApp = TestApp & {
  harness: Ledger;
  /** The injected clock, in epoch ms; tests move it. */
  clock: { nowMs: number };
  /** Voids what is due at the clock's time (the ledger's deadlines, ticked by hand). */
  expireDue: (openHoldCount: number) => Promise<void>;
  audited: { kind: string; detail: JsonObject }[];
  post: (
    path: string,
    body: unknown,
    apiKey: string,
    idempotencyKey?: string,
  ) => ReturnType<ReturnType<TestApp['http']>['post']>;
  get: (path: string, apiKey: string) => ReturnType<ReturnType<TestApp['http']>['get']>;
  stop: () => Promise<void>;
};

let keyCounter = 0;

/** The catalogue, sale and risk routes on a real SQLite event store with an injected clock. */
export const createSaleApp = async (startMs: number): Promise<SaleApp> => {
  const store = createSqliteEventStore({ path: ':memory:' });
  const harness = createLedger(store);
  const clock = { nowMs: startMs };
  const nowMs = () => clock.nowMs;
  const catalogue = createItemCatalogue({ store });
  catalogue.start();
  const audited: SaleApp['audited'] = [];
  const audit: SecurityAudit = { report: (kind, _actor, detail) => audited.push({ kind, detail }) };
  const services = {
    runtime: harness.runtime,
    ledger: harness.ledger,
    catalogue,
    risk: createRiskGuard({ rules: NO_RISK_RULES, nowMs, limits: { keyCountMax: 1000 } }),
    nowMs,
    audit,
  };
  const app = await createTestApp({
    routes: [
      securityAuditRoutes(services),
      itemRoutes(services),
      purchaseRoutes(services),
      riskRuleRoutes(services),
    ],
    nowMs,
    eventStore: store,
  });
  const deadlines = createLedgerDeadlines({
    store,
    checkpoints: createSqliteCheckpointStore(openSqliteDatabase(':memory:')),
    ledger: harness.ledger,
    clock: nowMs,
    onError: (transferId, error) => {
      throw new Error(`expiry of ${transferId} failed: ${String(error)}`);
    },
    tickMs: 3_600_000,
    transfersPerTickMax: 10_000,
  });
  await deadlines.start();
  return {
    ...app,
    harness,
    clock,
    audited,
    expireDue: async (openHoldCount) => {
      // The deadlines follow the log: once they have seen every open hold, a tick voids the due.
      await eventually(() => (deadlines.openDeadlineCount() === openHoldCount ? true : undefined), {
        timeoutMs: 5000,
        what: `the deadlines to follow ${openHoldCount} open holds`,
      });
      await deadlines.tick();
    },
    post: (path, body, apiKey, idempotencyKey) => {
      keyCounter += 1;
      return app
        .http()
        .post(path)
        .set(bearer(apiKey))
        .set('Idempotency-Key', idempotencyKey ?? `sale-key-${keyCounter}`)
        .send(body as object);
    },
    get: (path, apiKey) => app.http().get(path).set(bearer(apiKey)),
    stop: async () => {
      await deadlines.stop();
      await catalogue.stop();
    },
  };
};
