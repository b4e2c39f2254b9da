import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatementRow } from '../../domain/reconciliation/reconciliation';

/**
 * What the sandbox channel played from the CLI (`ledger sandbox pay`) took from payers: one JSON
 * line per payment in <dataDir>/sandbox-journal.jsonl. Its statement is written from here,
 * whatever the service answered, as a real channel's statement would be.
 */
const SANDBOX_JOURNAL_FILE_NAME = 'sandbox-journal.jsonl';

export const appendSandboxJournal = (dataDir: string, row: StatementRow): void => {
  appendFileSync(join(dataDir, SANDBOX_JOURNAL_FILE_NAME), `${JSON.stringify(row)}\n`, {
    mode: 0o600,
  });
};

export const readSandboxJournal = (dataDir: string): StatementRow[] => {
  const path = join(dataDir, SANDBOX_JOURNAL_FILE_NAME);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as StatementRow);
};
