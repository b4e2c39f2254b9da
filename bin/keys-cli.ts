import type { Command } from 'commander';
import { join } from 'node:path';
import { createSqliteSecurityEventStore } from '../adapters/security/sqlite.security-event-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { readKeyRingFile, rotateKeyRing, tokenKeysPath } from '../adapters/tokens/key-ring-file';
import type { Config } from './config';
import { SERVICE_FILE_NAME } from './service';

/**
 * `ledger keys rotate` and `ledger keys list`: the access-token signing keys in DATA_DIR. A
 * running service picks a rotation up on its next token (it watches the file).
 */
export const registerKeyCommands = (
  program: Command,
  configOrExit: () => Config,
  print: (value: unknown) => void,
): void => {
  const keys = program.command('keys').description('access-token signing keys in DATA_DIR');
  keys
    .command('rotate')
    .description(
      'make a new Ed25519 key current; the old one verifies for OAUTH_KEY_OVERLAP_S more, keys past their overlap are dropped',
    )
    .action(async () => {
      const config = configOrExit();
      const overlapMs = config.oauth.keyOverlapS * 1000;
      const nowMs = Date.now();
      const rotation = rotateKeyRing({ filePath: tokenKeysPath(config.dataDir), nowMs, overlapMs });
      const database = openSqliteDatabase(join(config.dataDir, SERVICE_FILE_NAME));
      try {
        await createSqliteSecurityEventStore(database).append([
          {
            kind: 'key_rotated',
            occurredAt: new Date(nowMs).toISOString(),
            clientId: null,
            ip: null,
            requestId: null,
            detail: { ...rotation, by: 'ledger keys rotate' },
            count: 1,
          },
        ]);
      } finally {
        database.close();
      }
      print({ ...rotation, overlapS: config.oauth.keyOverlapS });
    });
  keys
    .command('list')
    .description('the key ids, when each was made and retired (never the keys)')
    .action(() => {
      const config = configOrExit();
      const overlapMs = config.oauth.keyOverlapS * 1000;
      print(
        readKeyRingFile(tokenKeysPath(config.dataDir)).map((key) => ({
          kid: key.kid,
          alg: key.alg,
          createdAt: key.createdAt,
          retiredAt: key.retiredAt,
          verifiesUntil:
            key.retiredAt === null
              ? null
              : new Date(Date.parse(key.retiredAt) + overlapMs).toISOString(),
        })),
      );
    });
};
