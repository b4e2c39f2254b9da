import { join } from 'node:path';
import { openSignedCheckpointStore } from '../adapters/audit/sqlite.signed-checkpoint-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { UnavailableError, type EventStore } from '../domain/ports/event-store.port';
import { ledgerSummary } from '../projections/ledger-summary';
import { writeCheckpoint } from '../projections/log-checkpoints';
import { auditCheckpointRoutes } from '../api/routes/audit-checkpoints.route';
import type { RouteRegistrar } from '../api/route-kit';
import { AUDIT_CHECKPOINTS_FILE_NAME, verifyLog } from './audit-checkpoint-cli';
import { dataDirPublicKeyFiles, loadCheckpointSigner, readPublicKeys } from './audit-keys';
import type { Config } from './config';
import type { Logger } from 'winston';

/**
 * The service signs a checkpoint of the log every AUDIT_CHECKPOINT_INTERVAL_MS when the log moved,
 * and a last one as it stops (before the event store closes). A failure is logged and the next
 * tick tries again; a log that ends before the latest checkpoint (cut since) is logged as an error.
 */
export const startAuditCheckpoints = (deps: {
  config: Pick<Config, 'dataDir' | 'auditSigningKeyFile' | 'auditCheckpointIntervalMs'>;
  eventStore: EventStore;
  logger: Logger;
}): { stop: () => Promise<void>; routes: RouteRegistrar } => {
  const { config, eventStore, logger } = deps;
  const signer = loadCheckpointSigner(config.dataDir, config.auditSigningKeyFile);
  const database = openSqliteDatabase(join(config.dataDir, AUDIT_CHECKPOINTS_FILE_NAME));
  const log = openSignedCheckpointStore(database);
  let running: Promise<void> = Promise.resolve();
  const write = (): Promise<void> => {
    running = running.then(async () => {
      try {
        const written = await writeCheckpoint(eventStore, log, signer, {
          now: () => new Date(),
          force: false,
        });
        if (written !== null)
          logger.info('audit_checkpoint_signed', {
            sequence: written.body.sequence,
            headPosition: written.body.headPosition,
            eventCount: written.body.eventCount,
            keyId: written.body.keyId,
          });
      } catch (error: unknown) {
        logger.error('audit_checkpoint_failed', { error: String(error) });
      }
    });
    return running;
  };
  const timer =
    config.auditCheckpointIntervalMs === 0
      ? null
      : setInterval(() => void write(), config.auditCheckpointIntervalMs);
  timer?.unref();
  const readable = <T>(read: () => T): T => {
    try {
      return read();
    } catch (error: unknown) {
      throw new UnavailableError(`audit checkpoints unreadable: ${String(error)}`);
    }
  };
  const routes = auditCheckpointRoutes({
    verify: () =>
      verifyLog(
        eventStore,
        readable(() => log.all()),
        readPublicKeys(dataDirPublicKeyFiles(config.dataDir)),
      ),
    latestCheckpoint: () => readable(() => log.latest()),
    streamHeads: (query) => readable(() => log.streamHeads(query)),
    eventStore,
    summary: (options) => ledgerSummary(eventStore, options),
  });
  return {
    routes,
    stop: async () => {
      if (timer !== null) clearInterval(timer);
      if (config.auditCheckpointIntervalMs !== 0) await write();
      await running;
      database.close();
    },
  };
};
