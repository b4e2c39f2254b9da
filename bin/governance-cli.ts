import { join } from 'node:path';
import type { Command } from 'commander';
import { createSqliteClientStore } from '../adapters/clients/sqlite.client-store';
import { createSqlitePersonalDataVault } from '../adapters/personal-data/sqlite.personal-data-vault';
import { createSqliteSigningStore } from '../adapters/signing/sqlite.signing-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { generateSigningSecret } from '../domain/ports/request-signing.port';
import type { Config } from './config';
import { SERVICE_FILE_NAME, SUBJECT_KEYS_FILE_NAME } from './service';

/**
 * `ledger subjects erase` and `ledger clients signing-secret`: the same changes as the admin
 * routes, on the files in DATA_DIR, also beside a running service (SQLite in WAL mode; the
 * service reads both per request, so the change applies at once).
 */
export const registerGovernanceCommands = (
  program: Command,
  configOrExit: () => Config,
  print: (value: unknown) => void,
): void => {
  program
    .command('subjects')
    .description("personal-data subjects' keys")
    .command('erase <subjectId>')
    .description(
      'destroy the subject\'s key: its personal data reads "erased" everywhere; exit 1 if unknown',
    )
    .action(async (subjectId: string) => {
      const database = openSqliteDatabase(join(configOrExit().dataDir, SUBJECT_KEYS_FILE_NAME));
      try {
        const nowIso = new Date().toISOString();
        const vault = createSqlitePersonalDataVault(database, () => nowIso);
        const erased = await vault.erase(subjectId, nowIso);
        print(erased.ok ? { subjectId, erasedAt: erased.erasedAt } : { subjectId, ...erased });
        if (!erased.ok) process.exitCode = 1;
      } finally {
        database.close();
      }
    });
  program
    .command('clients')
    .description('API clients')
    .command('signing-secret <clientId>')
    .description(
      'set a new request-signing secret (printed once); --required makes signing mandatory',
    )
    .option('--required', 'refuse unsigned requests of this client')
    .action(async (clientId: string, options: { required?: boolean }) => {
      const database = openSqliteDatabase(join(configOrExit().dataDir, SERVICE_FILE_NAME));
      try {
        if ((await createSqliteClientStore(database).findById(clientId)) === null) {
          process.stderr.write(`no such client: ${clientId}\n`);
          process.exitCode = 1;
          return;
        }
        const signingSecret = generateSigningSecret();
        const required = options.required === true;
        const updatedAt = new Date().toISOString();
        await createSqliteSigningStore(database).put(clientId, {
          secret: signingSecret,
          required,
          updatedAt,
        });
        print({ clientId, required, updatedAt, signingSecret });
      } finally {
        database.close();
      }
    });
};
