import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StatementRow } from '../../domain/reconciliation/reconciliation';

/**
 * What the sandbox channel played from the CLI (`ledger sandbox pay`) took from payers: one JSON
 * line per payment in <dataDir>/sandbox-journal.jsonl. Its statement is written from here,
 * whatever the service answered, as a real channel's statement would be. The service's sandbox
 * keeps its own books (orders, refunds, pending callbacks) in SQLite: sqlite.sandbox-store.ts.
 */
const SANDBOX_JOURNAL_FILE_NAME = 'sandbox-journal.jsonl';

/** Appends one line and fsyncs it before returning: a line the CLI wrote survives a power cut. */
export const appendSandboxJournal = (dataDir: string, row: StatementRow): void => {
  const descriptor = openSync(join(dataDir, SANDBOX_JOURNAL_FILE_NAME), 'a', 0o600);
  try {
    writeSync(descriptor, `${JSON.stringify(row)}\n`);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
};

/**
 * The sandbox's statement: the journal's rows, then the orders its books know from any verified
 * callback (e.g. one signed by hand) that the journal lacks, by payment and transaction id.
 */
export const sandboxStatement = (
  journal: readonly StatementRow[],
  books: readonly StatementRow[],
): StatementRow[] => {
  const key = (row: StatementRow): string => `${row.paymentId}\n${row.channelTransactionId}`;
  const journalled = new Set(journal.map(key));
  return [...journal, ...books.filter((row) => !journalled.has(key(row)))];
};

export const readSandboxJournal = (dataDir: string): StatementRow[] => {
  const path = join(dataDir, SANDBOX_JOURNAL_FILE_NAME);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as StatementRow);
};
