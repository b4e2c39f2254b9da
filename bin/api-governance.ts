import type { Logger } from 'winston';
import { createSqliteGrantStore } from '../adapters/clients/sqlite.grant-store';
import { createSqliteSecurityEventStore } from '../adapters/security/sqlite.security-event-store';
import type { SqliteDatabase } from '../adapters/sqlite/open-database';
import { createFileKeyRing } from '../adapters/tokens/file.key-ring';
import { createJoseTokenService } from '../adapters/tokens/jose.token-service';
import { ensureKeyRing, tokenKeysPath } from '../adapters/tokens/key-ring-file';
import { createSecurityRecorder } from '../api/security/security-recorder';
import type { GrantStore } from '../domain/ports/grant-store.port';
import type { SecurityEventStore } from '../domain/ports/security-event.port';
import type { TokenService } from '../domain/ports/token.port';
import type { SecurityRecorder } from '../api/security/security-recorder';
import { SERVICE_LIMITS } from './config';
import type { OAuthConfig } from './oauth-config';

const DAY_MS = 24 * 3600 * 1000;

type ApiGovernance = {
  grantStore: GrantStore;
  tokens: TokenService;
  securityEvents: { store: SecurityEventStore; recorder: SecurityRecorder };
  /** Stops the prune timer and writes the queued security events. */
  stop: () => Promise<void>;
};

/**
 * Grants, access tokens (the key ring in DATA_DIR, created or rotated to OAUTH_SIGNING_KEY_FILE
 * here) and the security audit trail in service.sqlite. The service is the one owner of the
 * trail's retention: it prunes at start and every securityEventPruneIntervalMs.
 */
export const startApiGovernance = (options: {
  database: SqliteDatabase;
  dataDir: string;
  oauth: OAuthConfig;
  logger: Logger;
  nowMs: () => number;
}): ApiGovernance => {
  const { database, oauth, logger, nowMs } = options;
  const store = createSqliteSecurityEventStore(database);
  const recorder = createSecurityRecorder({
    store,
    nowMs,
    flushIntervalMs: SERVICE_LIMITS.securityEventFlushIntervalMs,
    pendingCountMax: SERVICE_LIMITS.securityEventPendingCountMax,
    onProblem: (name, detail) => logger.warn(name, detail),
  });
  const filePath = tokenKeysPath(options.dataDir);
  const overlapMs = oauth.keyOverlapS * 1000;
  const rotation = ensureKeyRing({
    filePath,
    configuredKeyFile: oauth.signingKeyFile,
    nowMs: nowMs(),
    overlapMs,
  });
  if (rotation !== null) {
    const by = oauth.signingKeyFile === null ? 'generated at start' : 'OAUTH_SIGNING_KEY_FILE';
    recorder.record({
      kind: 'key_rotated',
      clientId: null,
      ip: null,
      requestId: null,
      detail: { ...rotation, by },
    });
    logger.info('token_signing_key_rotated', { ...rotation, by });
  }
  const tokens = createJoseTokenService({
    keyRing: createFileKeyRing({ filePath, overlapMs }),
    issuer: oauth.issuer,
    audience: oauth.audience,
    tokenTtlS: oauth.tokenTtlS,
  });
  const prune = (): void => {
    const beforeIso = new Date(nowMs() - oauth.securityEventRetentionDays * DAY_MS).toISOString();
    store.pruneOlderThan(beforeIso).then(
      (deletedCount) => {
        if (deletedCount > 0) logger.info('security_events_pruned', { deletedCount, beforeIso });
      },
      (error: unknown) => logger.warn('security_events_prune_failed', { error: String(error) }),
    );
  };
  prune();
  const pruneTimer = setInterval(prune, SERVICE_LIMITS.securityEventPruneIntervalMs);
  pruneTimer.unref();
  return {
    grantStore: createSqliteGrantStore(database),
    tokens,
    securityEvents: { store, recorder },
    stop: async () => {
      clearInterval(pruneTimer);
      await recorder.stop();
    },
  };
};
