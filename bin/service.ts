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
import { createApp } from '../api/app';
import { startIdempotencyPurge } from '../api/middleware/idempotency';
import { accountRoutes } from '../api/routes/accounts.route';
import { channelCallbackRoutes } from '../api/routes/channel-callbacks.route';
import { securityAuditRoutes, type LedgerServices } from '../api/routes/ledger-services';
import { paymentRoutes } from '../api/routes/payments.route';
import { reconciliationRoutes } from '../api/routes/reconciliations.route';
import { trafficRoutes } from '../api/routes/traffic.route';
import { transferBatchRoutes } from '../api/routes/transfers-batch.route';
import { transferRoutes } from '../api/routes/transfers.route';
import { createActorRuntime } from '../domain/actors/actor-runtime';
import { createLedger } from '../domain/ledger/ledger';
import { createLedgerDeadlines } from '../domain/ledger/ledger-deadlines';
import { loadChannelConfig } from './channel-config';
import { importLegacyTraffic } from './legacy-traffic-import';
import { finishLegacyTransfers } from './legacy-transfer-upgrade';
import { startChannels } from './channels';
import type { Config } from './config';
import { EVENTS_FILE_NAME, openEventStore } from './event-store';
import { CHECKPOINT_LIMITS, startCheckpointThread } from './checkpoint-thread';
import { READ_MODELS_FILE_NAME } from './read-side';
import { startSale } from './sale';
import { startMessaging } from './messaging';
import type { MessagingConfig } from './messaging-config';
import { startReadSideThread } from './read-side-thread';
import { sandboxSecret } from './secrets';

/** Limits that are not configuration: fixed by design, named here in one place. */
export const SERVICE_LIMITS = {
  batchCommandCountMax: 512,
  conflictRetryCountMax: 5,
  streamLoadEventCountMax: 1000,
  /**
   * Commands the ledger decides into one append: one full batch request (a request is never
   * split). At most 3 events each, so one append stays well inside the SQLite store's 65,536
   * pending events beside the other actors' appends.
   */
  ledgerBatchCommandCountMax: 8190,
  /** Commands queued at the ledger before it answers 503: a few batches' worth. */
  ledgerMailboxCommandCountMax: 65_536,
  paymentTtlMs: 15 * 60 * 1000,
  deadlineTickMs: 1000,
  /**
   * How long a stop waits for open connections (an SSE stream, a slow client) before it closes
   * them: in-flight requests finish within it, and the process always exits.
   */
  drainMsMax: 10_000,
  deadlineTransfersPerTickMax: 1000,
  idempotencyPurgeIntervalMs: 10 * 60 * 1000,
};

/** Clients, idempotency keys, checkpoints, channel state and snapshots. */
export const SERVICE_FILE_NAME = 'service.sqlite';

export type RunningService = {
  server: Server;
  adminKeyFile: string | null;
  stop: () => Promise<void>;
};

/** The composition root: config → adapters → actors → API and supervisor. */
export const startService = async (
  config: Config,
  messagingConfig: MessagingConfig,
  logger: Logger,
): Promise<RunningService> => {
  const bootId = uuidv7();
  // The WAL checkpoints (and their fsyncs) run in their own thread; the writers only checkpoint
  // by themselves past a safety-net size.
  const walAutoCheckpointPages = CHECKPOINT_LIMITS.writerAutoCheckpointPages;
  const eventStore = openEventStore(config, { walAutoCheckpointPages });
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
  const adminKeyFile = await ensureBootstrapAdmin({
    store: clientStore,
    dataDir: config.dataDir,
    adminApiKeyFromEnv: config.adminApiKey,
  });

  const runtime = createActorRuntime(
    eventStore,
    {
      mailboxDepthMax: config.mailboxDepthMax,
      batchCommandCountMax: SERVICE_LIMITS.batchCommandCountMax,
      conflictRetryCountMax: SERVICE_LIMITS.conflictRetryCountMax,
      actorCountMax: config.actorCountMax,
      idleMsMax: config.actorIdleMsMax,
      streamLoadEventCountMax: SERVICE_LIMITS.streamLoadEventCountMax,
    },
    {
      onEvent: (name, fields) =>
        name === 'batch_appended' ? undefined : logger.warn(name, fields),
      ...snapshots,
    },
  );
  // Before anything can touch a traffic shard (routes, sagas resuming a plan purchase).
  await importLegacyTraffic({ store: eventStore, runtime, logger, nowMs: Date.now });
  const ledger = createLedger({
    store: eventStore,
    snapshots: snapshots.snapshots ?? null,
    limits: {
      mailboxCommandCountMax: SERVICE_LIMITS.ledgerMailboxCommandCountMax,
      batchCommandCountMax: SERVICE_LIMITS.ledgerBatchCommandCountMax,
      conflictRetryCountMax: SERVICE_LIMITS.conflictRetryCountMax,
      actorCountMax: config.actorCountMax,
      idleMsMax: config.actorIdleMsMax,
      streamLoadEventCountMax: SERVICE_LIMITS.streamLoadEventCountMax,
    },
    onEvent: (name, fields) =>
      name === 'ledger_batch_appended' ? undefined : logger.warn(name, fields),
  });
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
  const readSide = await startReadSideThread(config, eventStore, logger);
  const checkpointer = startCheckpointThread({
    paths: [
      ...(config.eventStoreUrl === null ? [join(config.dataDir, EVENTS_FILE_NAME)] : []),
      ...(config.mongodbUrl === null ? [join(config.dataDir, READ_MODELS_FILE_NAME)] : []),
      join(config.dataDir, SERVICE_FILE_NAME),
    ],
    logLevel: config.logLevel,
    logger,
  });
  const channels = startChannels({
    channelConfig: loadChannelConfig(process.env),
    dataDir: config.dataDir,
    sandboxSecret: sandboxSecret(config.dataDir, config.sandboxCallbackSecret),
    serviceUrl: `http://${config.host}:${config.port}`,
    database,
    eventStore,
    runtime,
    logger,
    nowMs: Date.now,
  });
  const messaging = await startMessaging({
    store: eventStore,
    runtime,
    ledger,
    checkpoints,
    gateways: [...channels.services.gateways.values()],
    plans: messagingConfig.plans,
    nats: messagingConfig.nats,
    logger,
  });

  const services: LedgerServices = {
    runtime,
    ledger,
    channelVerifiers: channels.verifiers,
    paymentTtlMs: SERVICE_LIMITS.paymentTtlMs,
    nowMs: Date.now,
    audit: messaging.securityAudit,
  };
  const sale = await startSale({
    store: eventStore,
    runtime,
    ledger,
    nowMs: Date.now,
    audit: messaging.securityAudit,
  });
  const app = createApp({
    logger,
    clientStore,
    idempotencyStore,
    readIdempotencyRecord: (scope, key) => eventStore.readIdempotencyRecord(scope, key),
    bootId,
    limits: { bodyBytesMax: config.bodyBytesMax, trafficBodyBytesMax: config.trafficBodyBytesMax },
    routes: [
      securityAuditRoutes(services),
      accountRoutes(services),
      transferRoutes(services),
      transferBatchRoutes(services),
      paymentRoutes(services, channels.services),
      trafficRoutes(services),
      channelCallbackRoutes(services, channels.services),
      reconciliationRoutes(channels.services),
      ...readSide.routes,
      ...messaging.routes,
      ...sale.routes,
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
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.port, config.host, () => resolve(listening));
    listening.once('error', reject);
  });

  const stop = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Idle kept-alive connections close now; a connection still busy past the bound (an SSE
    // stream never ends by itself) is closed then, so that a stop always ends.
    server.closeIdleConnections();
    const cutoff = setTimeout(() => server.closeAllConnections(), SERVICE_LIMITS.drainMsMax);
    await closed;
    clearTimeout(cutoff);
    stopPurges.forEach((stopPurge) => stopPurge());
    await messaging.stop();
    await sale.stop();
    channels.stop();
    await deadlines.stop();
    await readSide.stop();
    await checkpointer.stop();
    await runtime.close();
    await ledger.close();
    await eventStore.close();
    database.close();
  };
  return { server, adminKeyFile, stop };
};
