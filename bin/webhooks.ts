import { v4 as uuidv4 } from 'uuid';
import type { Logger } from 'winston';
import { createSqliteWebhookStore } from '../adapters/webhooks/sqlite.webhook-store';
import { createHttpWebhookSender } from '../adapters/webhooks/http.webhook-sender';
import type { SqliteDatabase } from '../adapters/sqlite/open-database';
import { serviceMetrics } from '../api/metrics';
import type { RouteRegistrar } from '../api/route-kit';
import { ensureMerchantSecret, webhookRoutes } from '../api/routes/webhooks.route';
import type { ActorRuntime } from '../domain/actors/actor-runtime';
import type { Mode } from '../domain/mode/mode';
import type { EventStore } from '../domain/ports/event-store.port';
import { createWebhookDelivery } from '../sagas/webhooks/webhook-delivery';
import { createWebhookFanout } from '../sagas/webhooks/webhook-fanout';
import { WEBHOOK_LIMITS, type WebhookConfig } from './config';

type WebhookDeps = {
  config: WebhookConfig;
  database: SqliteDatabase;
  eventStore: EventStore;
  runtime: ActorRuntime;
  logger: Logger;
  clock: () => number;
};

/** Webhooks to merchants: the store, the log follower, the delivery worker and their routes. */
export const startWebhooks = async (
  deps: WebhookDeps,
): Promise<{
  routes: RouteRegistrar;
  /** For the payment routes: a notifyUrl's SSRF check and the merchant secret that signs it. */
  notifyTargets: {
    refusal: (url: string) => Promise<string | null>;
    ensureMerchantSecret: (merchant: { merchantId: string; mode: Mode }) => Promise<void>;
  };
  stop: () => Promise<void>;
}> => {
  const { config, logger, clock } = deps;
  const store = createSqliteWebhookStore(deps.database);
  const sender = createHttpWebhookSender({
    allowedTargets: config.allowedTargets,
    timeoutMs: config.timeoutMs,
    responseBytesMax: WEBHOOK_LIMITS.responseBytesMax,
  });
  const warn = (what: string, fields: Record<string, unknown>): void =>
    void logger.warn(what, fields);
  const attempts = serviceMetrics().webhookAttempts;
  const delivery = createWebhookDelivery({
    webhooks: store,
    sender,
    runtime: deps.runtime,
    policy: {
      retryBaseMs: config.retryBaseMs,
      retryDelayMsMax: WEBHOOK_LIMITS.retryDelayMsMax,
      retryWindowMs: WEBHOOK_LIMITS.retryWindowMs,
    },
    concurrencyMax: config.concurrencyMax,
    disableAfterMs: config.disableAfterMs,
    tickMs: WEBHOOK_LIMITS.tickMs,
    clock,
    random: Math.random,
    onAttempt: (outcome) => attempts.inc({ outcome }),
    onWarning: warn,
  });
  const fanout = createWebhookFanout({
    store: deps.eventStore,
    webhooks: store,
    clock,
    newId: uuidv4,
    endpointCountMax: WEBHOOK_LIMITS.endpointCountMax,
    checkpointIntervalMs: WEBHOOK_LIMITS.checkpointIntervalMs,
    retryPauseMs: WEBHOOK_LIMITS.retryPauseMs,
    paymentStateCountMax: WEBHOOK_LIMITS.paymentStateCountMax,
    onWarning: warn,
    onEnqueued: delivery.wake,
  });
  await fanout.start();
  delivery.start();
  const routes = webhookRoutes({
    store,
    sender,
    newId: uuidv4,
    endpointCountMax: WEBHOOK_LIMITS.endpointCountMax,
    attemptCountMax: WEBHOOK_LIMITS.attemptCountMax,
    wake: delivery.wake,
  });
  return {
    routes,
    notifyTargets: {
      refusal: (url) => sender.refusal(url),
      ensureMerchantSecret: async (merchant) =>
        void (await ensureMerchantSecret(store, merchant, clock())),
    },
    stop: async () => {
      await fanout.stop();
      await delivery.stop();
    },
  };
};
