import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createSqliteReconciliationStore } from '../adapters/reconciliation/sqlite.reconciliation-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import type {
  ReconciliationReportRecord,
  ReconciliationStore,
} from '../domain/ports/reconciliation-store.port';
import { loadConfig } from './config';
import { adminKeyOf, serviceUrl } from './sandbox-cli';
import { SERVICE_FILE_NAME } from './service';

type JsonOption = { json?: boolean };

const LIST_PAGE_SIZE = 100;
const NOTE_LENGTH_MAX = 2000;

/** The daily reconciliation's reports in DATA_DIR/service.sqlite (beside a running service). */
const withStore = async <T>(work: (store: ReconciliationStore) => Promise<T>): Promise<T> => {
  const { dataDir } = loadConfig(process.env);
  const database = openSqliteDatabase(join(dataDir, SERVICE_FILE_NAME));
  try {
    return await work(createSqliteReconciliationStore(database));
  } finally {
    database.close();
  }
};

const print = (options: JsonOption, value: unknown, text: () => string): void => {
  process.stdout.write(options.json === true ? `${JSON.stringify(value)}\n` : text());
};

const itemLines = (report: ReconciliationReportRecord): string =>
  report.items
    .map((item) => {
      const { kind, paymentId } = item.discrepancy;
      const after =
        item.resolution !== null
          ? ` (${item.resolution.resolvedBy}: ${item.resolution.note})`
          : item.repair !== null
            ? ` (repair: ${item.repair.outcome})`
            : '';
      return `${item.itemId}\t${item.status}\t${kind}\t${paymentId}${after}\n`;
    })
    .join('');

const note = (value: string): string => {
  if (value.trim() === '' || value.length > NOTE_LENGTH_MAX)
    throw new InvalidArgumentError(`must be 1-${NOTE_LENGTH_MAX} characters, not blank`);
  return value;
};

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const day = (value: string): string => {
  if (!DAY_PATTERN.test(value)) throw new InvalidArgumentError('must be YYYY-MM-DD');
  return value;
};

type RunOptions = JsonOption & { channel: string; day?: string; url?: string };

/** POST /v1/reconciliations/runs on the running service, with the admin key. */
const runNow = async (options: RunOptions): Promise<void> => {
  const config = loadConfig(process.env);
  const response = await fetch(`${serviceUrl(config, options.url)}/v1/reconciliations/runs`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${adminKeyOf(config)}`,
      'content-type': 'application/json',
      'idempotency-key': `reconciliation-run-${randomUUID()}`,
    },
    body: JSON.stringify({
      channel: options.channel,
      ...(options.day === undefined ? {} : { day: options.day }),
    }),
  });
  const envelope = (await response.json()) as {
    code: number;
    msg: string;
    data: { report: ReconciliationReportRecord; repairedCount: number } | null;
  };
  if (envelope.code !== 0 || envelope.data === null)
    throw new Error(
      `reconciliation run refused (${response.status} ${envelope.code}): ${envelope.msg}`,
    );
  const { report, repairedCount } = envelope.data;
  print(
    options,
    envelope.data,
    () =>
      `${report.reportId} ${report.status}: ${report.matchedCount} matched, ${repairedCount} repaired, ${report.openItemCount} open\n${itemLines(report)}`,
  );
  process.exitCode = report.openItemCount === 0 ? 0 : 1;
};

/**
 * `ledger reconciliations list | show <reportId> | resolve <reportId> <itemId> --note` (the
 * reports in DATA_DIR), and `run [--channel] [--day]` (asks the running service).
 */
export const registerReconciliationCommands = (program: Command): void => {
  const reports = program
    .command('reconciliations')
    .description("the daily reconciliation's reports (DATA_DIR/service.sqlite)");
  reports
    .command('list')
    .description('the latest reports, newest day first')
    .option('--channel <channel>', 'only this channel')
    .option('--json', 'print JSON')
    .action(async (options: JsonOption & { channel?: string }) => {
      const page = await withStore((store) =>
        store.list({ channel: options.channel ?? null, pageNum: 1, pageSize: LIST_PAGE_SIZE }),
      );
      print(options, page, () =>
        page.reports
          .map(
            (report) =>
              `${report.reportId}\t${report.status}\t${report.itemCount} differences, ${report.openItemCount} open\n`,
          )
          .join(''),
      );
    });
  reports
    .command('show <reportId>')
    .description("a report's differences and their status; exit 1 when it has open ones")
    .option('--json', 'print JSON')
    .action(async (reportId: string, options: JsonOption) => {
      const report = await withStore((store) => store.get(reportId));
      if (report === null) throw new Error(`no reconciliation report ${reportId}`);
      print(options, report, () => `${report.reportId} ${report.status}\n${itemLines(report)}`);
      process.exitCode = report.openItemCount === 0 ? 0 : 1;
    });
  reports
    .command('resolve <reportId> <itemId>')
    .description('close an open difference with a note (resolvedBy: cli:<os user>)')
    .requiredOption('--note <text>', 'what was done about it', note)
    .action(async (reportId: string, itemId: string, options: { note: string }) => {
      const resolution = {
        note: options.note,
        resolvedBy: `cli:${userInfo().username}`,
        resolvedAt: new Date().toISOString(),
      };
      const outcome = await withStore((store) => store.resolve(reportId, itemId, resolution));
      if (outcome !== 'resolved') throw new Error(`${reportId} item ${itemId}: ${outcome}`);
      process.stdout.write(`${reportId} item ${itemId} resolved\n`);
    });
  reports
    .command('run')
    .description(
      "run a day's reconciliation now on the running service (POST /v1/reconciliations/runs); exit 1 when differences stay open",
    )
    .option('--channel <channel>', 'the channel', 'sandbox')
    .option('--day <YYYY-MM-DD>', 'the day (default: today in RECONCILIATION_TIMEZONE)', day)
    .option('--url <url>', 'the service (default: http://HOST:PORT)')
    .option('--json', 'print JSON')
    .action(runNow);
};
