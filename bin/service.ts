import type { Server } from 'node:http';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import type { Logger } from 'winston';
import { createSqliteCheckpointStore } from '../adapters/checkpoints/sqlite.checkpoint-store';
import { ensureBootstrapAdmin } from '../adapters/clients/bootstrap-admin';
import { createSqliteClientStore } from '../adapters/clients/sqlite.client-store';
import { createSqliteIdempotencyStore } from '../adapters/idempotency/sqlite.idempotency-store';
import { createSqliteSnapshotStore } from '../adapters/snapshots/sqlite.snapshot-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { onWalSyncFailure, walSyncOf } from '../adapters/sqlite/wal-sync';
import { createApp } from '../api/app';
import { createRateLimits } from '../api/middleware/rate-limit';
import { trailSecurity } from '../api/security-port';
import { createSqliteSigningStore } from '../adapters/signing/sqlite.signing-store';
import { createSqlitePersonalDataVault } from '../adapters/personal-data/sqlite.personal-data-vault';
import { subjectRoutes } from '../api/routes/subjects.route';
import { createDrain } from '../api/drain';
import { serviceMetrics, setMetricSources } from '../api/metrics';
import { startIdempotencyPurge } from '../api/middleware/idempotency';
import { accountRoutes } from '../api/routes/accounts.route';
import { channelCallbackRoutes } from '../api/routes/channel-callbacks.route';
import type { ReadinessCheck } from '../api/routes/health.route';
import { securityAuditRoutes, type LedgerServices } from '../api/routes/ledger-services';
import { paymentRoutes } from '../api/routes/payments.route';
import {
  reconciliationReportRoutes,
  reconciliationRoutes,
} from '../api/routes/reconciliations.route';
import { createSqliteReconciliationStore } from '../adapters/reconciliation/sqlite.reconciliation-store';
import { trafficRoutes } from '../api/routes/traffic.route';
import { nodeRoutes } from '../api/routes/nodes.route';
import { nodeRegistryOf } from '../api/routes/node-services';
import { nodePresenceRoutes } from '../api/routes/node-presence.route';
import { createNodePresence } from '../domain/node/node-presence';
import { createInMemoryNodePresenceStore } from '../adapters/presence/in-memory.node-presence-store';
import { createNatsNodePresenceStore } from '../adapters/presence/nats.node-presence-store';
import type { NodePresenceStore } from '../domain/ports/node-presence-store.port';
import { transferBatchRoutes } from '../api/routes/transfers-batch.route';
import { transferRoutes } from '../api/routes/transfers.route';
import { createActorRuntime } from '../domain/actors/actor-runtime';
import { createLedger } from '../domain/ledger/ledger';
import { createPaymentCreditAppender } from '../domain/ledger/payment-credit.appender';
import { paymentAggregate } from '../domain/payment/payment.decider';
import { createTrafficWriter } from '../domain/traffic/traffic-writer';
import { createLedgerDeadlines } from '../domain/ledger/ledger-deadlines';
import { importLegacyTraffic } from './legacy-traffic-import';
import { finishLegacyTransfers } from './legacy-transfer-upgrade';
import { startChannels } from './channels';
import {
  CHECKPOINT_LIMITS,
  MESSAGING_LIMITS,
  READ_SIDE_LIMITS,
  RECONCILIATION_LIMITS,
  SERVICE_LIMITS,
  type Config,
} from './config';
import { startDailyReconciliation, statementSourcesOf } from './reconciliation';
import { createAppendSignal } from './append-signal';
import { EVENTS_FILE_NAME, openEventStore } from './event-store';
import { startCheckpointThread } from './checkpoint-thread';
import {
  instrumentEventStore,
  instrumentLedger,
  instrumentTraffic,
  instrumentRuntime,
  metricSourcesOf,
} from './metrics';
import { READ_MODELS_FILE_NAME } from './read-side';
import { startSale } from './sale';
import { startMessaging } from './messaging';
import { startReadSideThread } from './read-side-thread';
import { sandboxSecret } from './secrets';
import { createAppendedEventCount, startAuditCheckpoints } from './audit-checkpoints';
import { AUDIT_CHECKPOINTS_FILE_NAME } from './audit-checkpoint-cli';
import { startWebhooks } from './webhooks';
import { startBackupSchedule } from './backup';
import { backupInChildProcess } from './backup-cli';
import { startListeners } from './listen';
import { proxyTrustOf } from '../api/middleware/client-address';
import { startApiGovernance } from './api-governance';
import { startAlerts } from './alerts';
import { openRateLimitStore } from './rate-limit-store';

/** Clients, idempotency keys, checkpoints, channel state and snapshots. */
export const SERVICE_FILE_NAME = 'service.sqlite';
/** The personal-data subjects' keys, apart from everything else: erasure destroys them. */
export const SUBJECT_KEYS_FILE_NAME = 'subject-keys.sqlite';

type RunningService = {
  server: Server;
  adminKeyFile: string | null;
  stop: () => Promise<void>;
};

/** Heartbeats in the NATS bucket when NATS_URL is set (several instances), else in memory. */
const openNodePresenceStore = (config: Config, logger: Logger): Promise<NodePresenceStore> => {
  const ttlMs = config.nodeSilentAfterMs * SERVICE_LIMITS.nodePresenceTtlSilenceCount;
  if (config.nats === null)
    return Promise.resolve(createInMemoryNodePresenceStore({ ttlMs, nowMs: Date.now }));
  return createNatsNodePresenceStore({
    servers: config.nats.url,
    bucket: SERVICE_LIMITS.nodePresenceBucket,
    ttlMs,
    retryPauseMs: MESSAGING_LIMITS.retryPauseMs,
    nowMs: Date.now,
    onWarning: (what, fields) => logger.warn(what, fields),
  });
};
/** Where the service answers (the sandbox channel posts its callbacks there). */
export const serviceUrlOf = (config: Pick<Config, 'tls' | 'host' | 'port'>): string =>
  `${config.tls === null ? 'http' : 'https'}://${config.host}:${config.port}`;

/** The composition root: config → adapters → actors → API and supervisor. */
export const startService = async (config: Config, logger: Logger): Promise<RunningService> => {
  const bootId = uuidv7();
  // A failed fdatasync of a WAL (adapters/sqlite/wal-sync.ts) is fail-stop: the stores refuse
  // every write (503) and the process exits for its supervisor to restart it from the disk.
  const stopFailStop = onWalSyncFailure(({ file, error }) => {
    logger.error('wal_sync_failed', { file, error: String(error), action: 'exiting' });
    setTimeout(() => process.exit(1), SERVICE_LIMITS.walSyncFailureExitDelayMs);
  });
  // The WAL checkpoints (and their fsyncs) run in their own thread; the writers only checkpoint
  // by themselves past a safety-net size.
  const walAutoCheckpointPages = CHECKPOINT_LIMITS.writerAutoCheckpointPages;
  // Each commit wakes the read-side thread's subscription (no poll on the way to SSE).
  const appendSignal = createAppendSignal();
  // Each committed append counts toward the next signed audit checkpoint (bin/audit-checkpoints).
  const appendedEvents = createAppendedEventCount();
  const eventStore = instrumentEventStore(
    openEventStore(config, { walAutoCheckpointPages, onDurable: appendSignal.notify }),
    appendedEvents.counted,
  );
  const database = openSqliteDatabase(join(config.dataDir, SERVICE_FILE_NAME));
  database.pragma(`wal_autocheckpoint = ${walAutoCheckpointPages}`);
  const clientStore = createSqliteClientStore(database);
  const idempotencyStore = createSqliteIdempotencyStore(database);
  const checkpoints = createSqliteCheckpointStore(database);
  const snapshots =
    config.snapshotEveryEvents === 0
      ? {}
      : {
          snapshots: {
            store: createSqliteSnapshotStore(database),
            everyEventCount: config.snapshotEveryEvents,
          },
        };
  const governance = startApiGovernance({
    database,
    dataDir: config.dataDir,
    oauth: config.oauth,
    logger,
    nowMs: Date.now,
  });
  const adminKeyFile = await ensureBootstrapAdmin({
    store: clientStore,
    dataDir: config.dataDir,
    adminApiKeyFromEnv: config.adminApiKey,
  });

  /** The limits the ledger and the actor runtime share. */
  const actorLimits = {
    conflictRetryCountMax: SERVICE_LIMITS.conflictRetryCountMax,
    actorCountMax: config.actorCountMax,
    idleMsMax: config.actorIdleMsMax,
    streamLoadEventCountMax: SERVICE_LIMITS.streamLoadEventCountMax,
  };
  // Before the runtime: the payment category's appender goes through the ledger.
  const ledger = instrumentLedger(
    createLedger({
      store: eventStore,
      snapshots: snapshots.snapshots ?? null,
      limits: {
        mailboxCommandCountMax: SERVICE_LIMITS.ledgerMailboxCommandCountMax,
        batchCommandCountMax: SERVICE_LIMITS.ledgerBatchCommandCountMax,
        ...actorLimits,
      },
      onEvent: (name, fields) =>
        name === 'ledger_batch_appended' ? undefined : logger.warn(name, fields),
    }),
  );
  const runtime = instrumentRuntime(
    createActorRuntime(
      eventStore,
      {
        mailboxDepthMax: config.mailboxDepthMax,
        batchCommandCountMax: SERVICE_LIMITS.batchCommandCountMax,
        ...actorLimits,
      },
      {
        onEvent: (name, fields) =>
          name === 'batch_appended' ? undefined : logger.warn(name, fields),
        ...snapshots,
        // A payment's success commits with its wallet credit, through the ledger.
        appenders: new Map([
          [
            paymentAggregate.category,
            createPaymentCreditAppender({
              ledger,
              store: eventStore,
              onEvent: (name, fields) => logger.warn(name, fields),
            }),
          ],
        ]),
      },
    ),
  );
  // The only writer of the traffic shards, the legacy import's included.
  const traffic = instrumentTraffic(
    createTrafficWriter({
      store: eventStore,
      snapshots: snapshots.snapshots ?? null,
      limits: {
        mailboxCommandCountMax: SERVICE_LIMITS.trafficMailboxCommandCountMax,
        batchCommandCountMax: SERVICE_LIMITS.trafficBatchCommandCountMax,
        conflictRetryCountMax: SERVICE_LIMITS.conflictRetryCountMax,
        streamLoadEventCountMax: SERVICE_LIMITS.streamLoadEventCountMax,
      },
      onEvent: (name, fields) => logger.warn(name, fields),
    }),
  );
  // Before anything else can touch a traffic shard (routes, sagas resuming a plan purchase).
  await importLegacyTraffic({ store: eventStore, traffic, logger, nowMs: Date.now });
  // Before anything can touch a transfer the previous version left half-done.
  await finishLegacyTransfers({ store: eventStore, ledger, checkpoints, logger, nowMs: Date.now });
  const deadlines = createLedgerDeadlines({
    store: eventStore,
    checkpoints,
    ledger,
    clock: Date.now,
    onError: (transferId, error) =>
      logger.warn('transfer_expiry_failed', { transferId, error: String(error) }),
    tickMs: SERVICE_LIMITS.deadlineTickMs,
    transfersPerTickMax: SERVICE_LIMITS.deadlineTransfersPerTickMax,
  });
  await deadlines.start();
  const readSide = await startReadSideThread(config, eventStore, logger, {
    appendSignal: appendSignal.cells,
  });
  const checkpointer = startCheckpointThread({
    paths: [
      ...(config.eventStoreUrl === null ? [join(config.dataDir, EVENTS_FILE_NAME)] : []),
      ...(config.mongodbUrl === null ? [join(config.dataDir, READ_MODELS_FILE_NAME)] : []),
      join(config.dataDir, SERVICE_FILE_NAME),
      join(config.dataDir, AUDIT_CHECKPOINTS_FILE_NAME),
    ],
    logLevel: config.logLevel,
    logger,
  });
  const alerts = startAlerts(config, logger);
  const channels = startChannels({
    channelConfig: config.channels,
    dataDir: config.dataDir,
    sandboxSecret: sandboxSecret(config.dataDir, config.sandboxCallbackSecret),
    serviceUrl: serviceUrlOf(config),
    database,
    eventStore,
    runtime,
    logger,
    nowMs: Date.now,
    alerts,
  });
  const messaging = await startMessaging({
    store: eventStore,
    runtime,
    ledger,
    traffic,
    checkpoints,
    gateways: [...channels.services.gateways.values()],
    nats: config.nats,
    logger,
    alerts,
  });

  const reconciliationStore = createSqliteReconciliationStore(database);
  const reconciliation = startDailyReconciliation({
    config: config.reconciliation,
    ...statementSourcesOf({
      channelConfig: config.channels,
      dataDir: config.dataDir,
      sandbox: channels.sandbox,
      configuredChannels: [...channels.services.gateways.keys()],
      timeoutMs: RECONCILIATION_LIMITS.statementTimeoutMs,
    }),
    store: reconciliationStore,
    eventStore,
    runtime,
    alerts,
    logger,
    clock: Date.now,
    limits: RECONCILIATION_LIMITS,
  });
  const security = trailSecurity(governance.securityEvents.recorder);
  const subjectKeys = openSqliteDatabase(join(config.dataDir, SUBJECT_KEYS_FILE_NAME));
  const personalData = {
    vault: createSqlitePersonalDataVault(subjectKeys, () => new Date().toISOString()),
    security,
  };
  const services: LedgerServices = {
    runtime,
    ledger,
    traffic,
    channelVerifiers: channels.verifiers,
    paymentTtlMs: SERVICE_LIMITS.paymentTtlMs,
    nowMs: Date.now,
    audit: messaging.securityAudit,
    personalData,
    alerts,
    eventStore,
  };
  const sale = await startSale({
    store: eventStore,
    runtime,
    ledger,
    nowMs: Date.now,
    seedPlans: config.plans,
    logger,
    audit: messaging.securityAudit,
    sandboxEnabled: config.channels.sandboxEnabled,
  });
  setMetricSources(
    metricSourcesOf({
      eventStore,
      runtime,
      ledger,
      traffic,
      readSideLag: () => readSide.readSide.lag(),
      relayPosition: messaging.relayPosition,
      lagEventCountMax: READ_SIDE_LIMITS.lagEventCountMax,
      sagaCounts: messaging.sagaCounts,
      breakerStates: channels.breakerStates,
      reconciliationOpenItems: reconciliation.openItemCounts,
      dataDir: config.dataDir,
      nowMs: Date.now,
    }),
  );
  // Heartbeats never reach the log: memory, or a NATS bucket every instance sees. A status
  // change is recorded on the node's status stream, once; a restart folds those streams again.
  const presenceStore = await openNodePresenceStore(config, logger);
  const presence = createNodePresence({
    store: presenceStore,
    runtime,
    nowMs: Date.now,
    silentAfterMs: config.nodeSilentAfterMs,
    onChange: (change) => {
      serviceMetrics().nodeStatusChanges.inc({ to: change.to });
      if (change.to === 'silent') {
        logger.warn('node_silent', change);
        alerts.raise('node_silent', change.nodeId);
      } else logger.info('node_online', change);
    },
  });
  const nodeServices = { runtime, traffic, presence, nowMs: Date.now };
  const presenceSweep = setInterval(() => {
    nodeRegistryOf(nodeServices)
      .then(({ state }) =>
        presence.sweep(state.nodes.filter((node) => node.retiredAt === null).keys()),
      )
      .catch((error: unknown) => logger.warn('node_sweep_failed', { error: String(error) }));
  }, SERVICE_LIMITS.nodeSweepTickMs);
  const { busConnected } = messaging;
  const readiness: ReadinessCheck[] = [
    {
      name: 'event_store',
      run: async () => {
        await eventStore.probeWrite();
        return null;
      },
    },
    {
      name: 'read_side',
      run: async () => {
        const lag = await readSide.readSide.lag();
        const lagMsMax = SERVICE_LIMITS.readyReadSideLagMsMax;
        return lag.msBehind <= lagMsMax
          ? null
          : `${lag.eventsBehind} events behind, the oldest ${lag.msBehind} ms old (limit ${lagMsMax} ms)`;
      },
    },
    ...(busConnected === null
      ? []
      : [{ name: 'nats', run: async () => (busConnected() ? null : 'not connected') }]),
  ];
  const webhooks = await startWebhooks({
    config: config.webhooks,
    database,
    eventStore,
    runtime,
    logger,
    clock: Date.now,
  });
  const drain = createDrain();
  const signing = createSqliteSigningStore(database);
  const rateLimitStore = await openRateLimitStore(config.rateLimitStore, logger);
  const limitsAndSigning = {
    rateLimits: createRateLimits({
      settings: config.rateLimits,
      store: rateLimitStore,
      security,
    }),
    signing,
  };
  const noncePurge = setInterval(() => {
    signing
      .purgeNonces(Date.now())
      .catch((error: unknown) => logger.warn('nonce_purge_failed', { error: String(error) }));
  }, SERVICE_LIMITS.noncePurgeIntervalMs);
  const auditCheckpoints = startAuditCheckpoints({
    config,
    eventStore,
    appendedEvents,
    logger,
  });
  const backups =
    config.backupIntervalMs === 0
      ? null
      : startBackupSchedule({
          intervalMs: config.backupIntervalMs,
          runBackup: () => backupInChildProcess(config),
          logger,
        });
  const app = createApp({
    logger,
    readiness,
    drain,
    clientStore,
    grantStore: governance.grantStore,
    tokens: governance.tokens,
    securityEventStore: governance.securityEvents.store,
    security,
    idempotencyStore,
    readIdempotencyRecord: (scope, key) => eventStore.readIdempotencyRecord(scope, key),
    bootId,
    governance: limitsAndSigning,
    limits: { bodyBytesMax: config.bodyBytesMax, trafficBodyBytesMax: config.trafficBodyBytesMax },
    corsAllowedOrigins: config.corsAllowedOrigins,
    transport: {
      proxyTrust: proxyTrustOf(config.trustedProxies),
      hstsMaxAgeS: config.hstsMaxAgeS,
    },
    routes: [
      securityAuditRoutes(services),
      accountRoutes(services),
      transferRoutes(services),
      transferBatchRoutes(services),
      paymentRoutes(services, channels.services, webhooks.notifyTargets),
      trafficRoutes(services),
      nodeRoutes(nodeServices),
      nodePresenceRoutes(nodeServices),
      channelCallbackRoutes(services, channels.services),
      reconciliationRoutes(channels.services),
      reconciliationReportRoutes({
        store: reconciliationStore,
        nowMs: Date.now,
        runNow: reconciliation.runNow,
      }),
      ...readSide.routes,
      ...messaging.routes,
      ...sale.routes,
      auditCheckpoints.routes,
      webhooks.routes,
      subjectRoutes(personalData),
    ],
  });
  const purge = (store: Parameters<typeof startIdempotencyPurge>[0]['store']) =>
    startIdempotencyPurge({
      store,
      retentionMs: config.idempotencyRetentionHours * 3600 * 1000,
      intervalMs: SERVICE_LIMITS.idempotencyPurgeIntervalMs,
      nowMs: Date.now,
      logger,
    });
  const stopPurges = [
    purge(idempotencyStore),
    purge({ purgeOlderThan: (beforeMs) => eventStore.purgeIdempotencyRecords(beforeMs) }),
  ];
  const listeners = await startListeners({
    port: config.port,
    host: config.host,
    tls: config.tls,
    reloadPollMs: SERVICE_LIMITS.tlsReloadPollMs,
    handler: app.callback(),
    logger,
  });
  const { server } = listeners;

  const stop = async (): Promise<void> => {
    // New requests, also on kept-alive connections, get 503 draining with Connection: close;
    // SSE streams send their last event and end.
    drain.start();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Idle kept-alive connections close now; a connection still busy past the bound (a slow
    // client) is closed then, so that a stop always ends.
    server.closeIdleConnections();
    const cutoff = setTimeout(() => server.closeAllConnections(), config.drainTimeoutMs);
    await closed;
    clearTimeout(cutoff);
    await listeners.stop();
    setMetricSources(null);
    await backups?.stop();
    clearInterval(presenceSweep);
    await presenceStore.close();
    clearInterval(noncePurge);
    await rateLimitStore.close();
    alerts.stop();
    stopPurges.forEach((stopPurge) => stopPurge());
    await webhooks.stop();
    await reconciliation.stop();
    await messaging.stop();
    await sale.stop();
    channels.stop();
    await deadlines.stop();
    await readSide.stop();
    await checkpointer.stop();
    await runtime.close();
    await ledger.close();
    await traffic.close();
    // A last signed checkpoint after the last append, before the log closes.
    await auditCheckpoints.stop();
    await governance.stop();
    await eventStore.close();
    await walSyncOf(database).close();
    database.close();
    subjectKeys.close();
    stopFailStop();
  };
  return { server, adminKeyFile, stop };
};
