import { v7 as uuidv7 } from 'uuid';
import type { Logger } from 'winston';
import { createInProcessBus } from '../adapters/bus/in-process.bus';
import { createNatsBus } from '../adapters/bus/nats.bus';
import { serviceMetrics } from '../api/metrics';
import { tracingSdkRegistered } from '../api/middleware/trace-requests';
import type { RouteRegistrar } from '../api/route-kit';
import type { SecurityAudit } from '../api/routes/ledger-services';
import { sagaRoutes } from '../api/routes/sagas.route';
import type { ActorRuntime } from '../domain/actors/actor-runtime';
import type { AlertSink } from '../domain/ports/alert.port';
import type { AuditSink } from '../domain/ports/audit.port';
import type { MessageBus } from '../domain/ports/bus.port';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.port';
import type { EventStore } from '../domain/ports/event-store.port';
import type { PaymentChannelGateway } from '../domain/ports/payment-channel.port';
import type { Ledger } from '../domain/ledger/ledger';
import type { TrafficWriter } from '../domain/traffic/traffic-writer';
import { createAuditTrail } from '../sagas/audit.saga';
import { paymentExpirySaga } from '../sagas/payment-expiry.saga';
import { planPurchaseSaga } from '../sagas/plan-purchase.saga';
import { refundSaga } from '../sagas/refund.saga';
import { saleSettlementSaga } from '../sagas/sale-settlement.saga';
import { createRelay } from '../sagas/relay';
import { createSagaCatalogue } from '../sagas/saga-catalogue';
import { createSagaEngine } from '../sagas/saga-engine';
import { createSagaHost } from '../sagas/saga-host';
import { createSagaSweeper } from '../sagas/saga-sweeper';
import { topUpSaga } from '../sagas/top-up.saga';
import { MESSAGING_LIMITS, type MessagingLimits } from './config';
import type { NatsSettings } from './messaging-config';

type MessagingDeps = {
  store: EventStore;
  runtime: ActorRuntime;
  ledger: Ledger;
  traffic: TrafficWriter;
  checkpoints: CheckpointStore;
  gateways: readonly PaymentChannelGateway[];
  nats: NatsSettings | null;
  /** A bus built by the caller instead (tests wrap one to duplicate or reorder deliveries). */
  bus?: (inner: MessageBus) => MessageBus;
  logger: Logger;
  /** Dead-lettered sagas and bus messages are alerted here; absent: not alerted. */
  alerts?: AlertSink;
  clock?: () => number;
  limits?: Partial<MessagingLimits>;
};

export type RunningMessaging = {
  bus: MessageBus;
  audit: AuditSink;
  /** For LedgerServices.audit: rejected commands and admin actions, bounded, never blocking. */
  securityAudit: SecurityAudit;
  /** Route registrars for createApp: saga list and retry. */
  routes: readonly RouteRegistrar[];
  /** The last position the relay published (metrics: its lag). */
  relayPosition: () => bigint | null;
  /** Saga instances per saga and status (metrics). */
  sagaCounts: () => { sagaName: string; status: string; count: number }[];
  /** Whether the NATS connection is up now; null with the in-process bus (readiness). */
  busConnected: (() => boolean) | null;
  stop: () => Promise<void>;
};

export const DEAD_LETTER_PREFIX = 'ledger.deadletter';

/**
 * Consumers older builds created and this one no longer reads: the payment_expiry saga is
 * started by the sweeper at the payment's deadline, not by a bus consumer.
 */
const RETIRED_CONSUMERS = ['saga_payment_expiry'];

/** Counts (and alerts) a bus message given up after its deliveries. */
const busDeadLetterHook =
  (alerts: AlertSink | undefined) =>
  (subject: string): void => {
    serviceMetrics().deadLetters.inc({ source: 'bus' });
    alerts?.raise('bus_dead_letter', subject);
  };

const openBus = async (
  deps: MessagingDeps,
  limits: MessagingLimits,
  clock: () => number,
): Promise<{ bus: MessageBus; connected: (() => boolean) | null }> => {
  if (deps.nats === null) {
    const bus = createInProcessBus({
      retainedMessageCountMax: limits.inProcessRetainedMessageCountMax,
      deliveryConcurrencyMax: limits.fetchBatchMax,
      duplicateWindowMs: 120_000,
      deadLetterPrefix: DEAD_LETTER_PREFIX,
      clock,
      onDeadLetter: busDeadLetterHook(deps.alerts),
    });
    return { bus, connected: null };
  }
  const { url, ...stream } = deps.nats;
  const bus = await createNatsBus({
    servers: url,
    ...stream,
    subjects: ['ledger.events.>', 'ledger.audit.>'],
    deadLetterPrefix: DEAD_LETTER_PREFIX,
    fetchBatchMax: limits.fetchBatchMax,
    fetchExpiresMs: limits.fetchExpiresMs,
    publishAckTimeoutMs: limits.publishAckTimeoutMs,
    retryPauseMs: limits.retryPauseMs,
    retiredConsumers: RETIRED_CONSUMERS,
    onWarning: (what, fields) => deps.logger.warn(what, fields),
    onDeadLetter: busDeadLetterHook(deps.alerts),
  });
  return { bus, connected: () => bus.connected() };
};

/** Relay, bus, saga engine, host, sweeper, saga list and audit trail, started in that order. */
export const startMessaging = async (deps: MessagingDeps): Promise<RunningMessaging> => {
  const limits = { ...MESSAGING_LIMITS, ...deps.limits };
  const clock = deps.clock ?? Date.now;
  const warn = (what: string, fields: Record<string, unknown>): void =>
    void deps.logger.warn(what, fields);
  const opened = await openBus(deps, limits, clock);
  const bus = deps.bus === undefined ? opened.bus : deps.bus(opened.bus);
  const metrics = serviceMetrics();
  const ports = {
    runtime: deps.runtime,
    ledger: deps.ledger,
    traffic: deps.traffic,
    gateways: deps.gateways,
  };
  const definitions = [
    topUpSaga(ports),
    refundSaga(ports, {
      resultQueryMinMs: limits.refundResultQueryMinMs,
      resultQueryMaxMs: limits.refundResultQueryMaxMs,
      resultTimeoutMs: limits.refundResultTimeoutMs,
    }),
    planPurchaseSaga(ports),
    paymentExpirySaga(ports),
    saleSettlementSaga(ports),
  ];
  const engine = createSagaEngine({
    runtime: deps.runtime,
    definitions,
    limits,
    clock,
    random: Math.random,
    onRetry: ({ sagaName }) => metrics.sagaStepRetries.inc({ saga: sagaName }),
    onDeadLetter: async ({ sagaName, sagaId, reason }) => {
      metrics.deadLetters.inc({ source: 'saga' });
      warn('saga_dead_lettered', { sagaName, sagaId, reason });
      deps.alerts?.raise('saga_dead_lettered', `${sagaName}-${sagaId}`);
      await bus.publish(
        `${DEAD_LETTER_PREFIX}.saga.${sagaName}`,
        `dead:saga-${sagaName}-${sagaId}:${clock()}`,
        { sagaName, sagaId, reason },
      );
    },
  });
  const consumer = {
    ackWaitMs: limits.ackWaitMs,
    deliveryCountMax: limits.deliveryCountMax,
    backoffMs: limits.backoffMs,
  };
  const host = createSagaHost({ bus, engine, ...consumer, tracing: tracingSdkRegistered });
  const audit = createAuditTrail({
    bus,
    recordCountMax: limits.auditRecordCountMax,
    reportInFlightMax: limits.auditReportInFlightMax,
    onReportError: warn,
    clock,
    newId: uuidv7,
    ...consumer,
  });
  const sweeper = createSagaSweeper({
    store: deps.store,
    checkpoints: deps.checkpoints,
    engine,
    clock,
    graceMs: limits.sweepGraceMs,
    tickMs: limits.sweepTickMs,
    sagasPerTickMax: limits.sweepSagasPerTickMax,
    onError: warn,
  });
  const catalogue = createSagaCatalogue({
    store: deps.store,
    sagaNames: definitions.map((definition) => definition.name),
    finalSagaCountMax: limits.finalSagaCountMax,
  });
  const relay = createRelay({
    store: deps.store,
    bus,
    checkpoints: deps.checkpoints,
    windowEventCountMax: limits.relayWindowEventCountMax,
    checkpointIntervalMs: limits.relayCheckpointIntervalMs,
    retryPauseMs: limits.retryPauseMs,
    clock,
    onWarning: warn,
  });

  await host.start();
  await audit.start();
  await relay.start();
  await sweeper.start();
  catalogue.start();
  const nowMs = clock;
  return {
    bus,
    audit: audit.sink,
    securityAudit: audit.reporter,
    routes: [sagaRoutes({ runtime: deps.runtime, sagas: catalogue.query, nowMs })],
    relayPosition: relay.position,
    sagaCounts: catalogue.counts,
    busConnected: opened.connected,
    stop: async () => {
      await relay.stop();
      await sweeper.stop();
      await host.stop();
      await audit.stop();
      await catalogue.stop();
      await bus.close();
    },
  };
};
