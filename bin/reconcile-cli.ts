import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { sandboxStatementRows } from '../adapters/channels/sandbox.gateway';
import { readSandboxJournal, sandboxStatement } from '../adapters/channels/sandbox.journal';
import { readSandboxOrders } from '../adapters/channels/sqlite.sandbox-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import {
  RECONCILIATION_PAGE_EVENT_COUNT_MAX,
  defaultStatementFormat,
} from '../api/routes/reconciliations.route';
import { paymentChannels } from '../domain/payment/payment.decider';
import { loadLedgerPayments } from '../domain/reconciliation/ledger-payments';
import {
  reconcile,
  type ReconciliationReport,
  type StatementRow,
} from '../domain/reconciliation/reconciliation';
import { formatReconciliationTable } from '../domain/reconciliation/reconciliation-table';
import {
  formatSandboxStatement,
  parseStatementCsv,
  statementFormats,
  type StatementFormat,
} from '../domain/reconciliation/statement-csv';
import { buildFlatXml, signWechatV2 } from '../adapters/channels/wechat/wechat-v2.xml';
import { channelOrderNoOf } from '../domain/payment/payment-id';
import { loadConfig } from './config';
import { openEventStore } from './event-store';
import { longCommand, printResult, withProgress, type LongCommandOptions } from './cli-kit';
import { SERVICE_FILE_NAME } from './service';

/** What the service's sandbox books hold (none before the service ever ran in this DATA_DIR). */
const sandboxBookRows = (dataDir: string): StatementRow[] => {
  const path = join(dataDir, SERVICE_FILE_NAME);
  if (!existsSync(path)) return [];
  const database = openSqliteDatabase(path);
  try {
    return sandboxStatementRows(readSandboxOrders(database));
  } finally {
    database.close();
  }
};

type ReconcileOptions = LongCommandOptions & {
  channel: string;
  format?: StatementFormat;
  from?: string;
  to?: string;
};

const instant = (value: string): string => {
  if (Number.isNaN(Date.parse(value)))
    throw new InvalidArgumentError('must be an ISO-8601 instant');
  return value;
};
const choice =
  <T extends string>(allowed: readonly T[]) =>
  (value: string): T => {
    const found = allowed.find((item) => item === value);
    if (found === undefined) throw new InvalidArgumentError(`must be one of ${allowed.join(', ')}`);
    return found;
  };

/** UTF-8 when the bytes are valid UTF-8, else GBK: Alipay's bills are GBK as downloaded. */
const readStatementText = (file: string): string => {
  const bytes = readFileSync(file);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('gbk').decode(bytes);
  }
};

/** Reads the statement file and the ledger (the configured event store), compares them. */
const reconcileStatementFile = async (
  file: string,
  options: ReconcileOptions,
): Promise<ReconciliationReport> => {
  const format = options.format ?? defaultStatementFormat(options.channel);
  const statement = parseStatementCsv(readStatementText(file), format);
  if (!statement.ok) throw new Error(`${file} line ${statement.line}: ${statement.reason}`);
  const store = openEventStore(loadConfig(process.env));
  try {
    const ledger = await withProgress(
      options,
      { label: 'reconcile', endPosition: await store.headPosition() },
      (onPage) =>
        loadLedgerPayments(store, options.channel, RECONCILIATION_PAGE_EVENT_COUNT_MAX, onPage),
    );
    const period = {
      fromMs: options.from === undefined ? null : Date.parse(options.from),
      toMs: options.to === undefined ? null : Date.parse(options.to),
    };
    return reconcile(statement.rows, ledger, period);
  } finally {
    await store.close();
  }
};

type NotifyOptions = { url?: string; amount?: string; transactionId: string; nonce: string };

/**
 * Plays WeChat Pay v2 against a running service with the configured test key: a payment
 * notification signed like WeChat's. The same options send the same bytes, so running the
 * command twice replays the callback.
 */
const sendWechatV2Notification = async (
  paymentId: string,
  options: NotifyOptions,
): Promise<{ status: number; body: string }> => {
  const config = loadConfig(process.env);
  const wechat = config.channels.wechat;
  if (wechat?.v2 == null)
    throw new Error(
      'WECHAT_APP_ID, WECHAT_MCH_ID, WECHAT_NOTIFY_URL and WECHAT_API_KEY must be set',
    );
  const params = {
    return_code: 'SUCCESS',
    result_code: 'SUCCESS',
    appid: wechat.appId,
    mch_id: wechat.mchId,
    nonce_str: options.nonce,
    sign_type: wechat.v2.signType,
    out_trade_no: channelOrderNoOf(paymentId),
    transaction_id: options.transactionId,
    total_fee: options.amount ?? '',
    fee_type: 'CNY',
    time_end: '20250101000000',
  };
  const body = buildFlatXml({
    ...params,
    sign: signWechatV2(params, wechat.v2.apiKey, wechat.v2.signType),
  });
  const response = await fetch(
    `${options.url ?? `http://${config.host}:${config.port}`}/v1/channels/wechat/callbacks`,
    { method: 'POST', headers: { 'content-type': 'text/xml' }, body },
  );
  return { status: response.status, body: await response.text() };
};

/** `ledger reconcile <file>`, `ledger sandbox statement`, `ledger wechat notify`; reconcile exits 1 on discrepancies. */
export const registerChannelCommands = (program: Command): void => {
  longCommand(
    program
      .command('reconcile <statementFile>')
      .description("compare a channel's statement CSV with the ledger; exit 1 on any discrepancy")
      .option('--channel <channel>', "the statement's channel", choice(paymentChannels), 'sandbox')
      .option(
        '--format <format>',
        "statement format (default: the channel's own)",
        choice(statementFormats),
      )
      .option('--from <instant>', 'ledger payments paid at or after this instant', instant)
      .option('--to <instant>', 'ledger payments paid before this instant', instant),
  ).action(async (file: string, options: ReconcileOptions) => {
    const report = await reconcileStatementFile(file, options);
    printResult(options, report, () => formatReconciliationTable(report));
    process.exitCode = report.discrepancies.length === 0 ? 0 : 1;
  });
  const sandbox =
    program.commands.find((command) => command.name() === 'sandbox') ?? program.command('sandbox');
  sandbox
    .command('statement')
    .description(
      "write the sandbox channel's statement CSV (what `sandbox pay` took and what its books know from verified callbacks)",
    )
    .option('--out <file>', 'write to this file instead of standard output')
    .action((options: { out?: string }) => {
      const { dataDir } = loadConfig(process.env);
      const csv = formatSandboxStatement(
        sandboxStatement(readSandboxJournal(dataDir), sandboxBookRows(dataDir)),
      );
      if (options.out === undefined) process.stdout.write(csv);
      else writeFileSync(options.out, csv);
    });
  program
    .command('wechat-notify <paymentId> <amountFen>')
    .description(
      'send a WeChat Pay v2 payment notification signed with WECHAT_API_KEY (same options: a replay)',
    )
    .option('--url <url>', 'service base URL (default http://HOST:PORT)')
    .option('--transaction-id <id>', 'WeChat transaction_id', '4200000000000000000000000001')
    .option('--nonce <nonce>', 'nonce_str', 'demo-nonce-1')
    .action(async (paymentId: string, amountFen: string, options: NotifyOptions) => {
      const answer = await sendWechatV2Notification(paymentId, { ...options, amount: amountFen });
      process.stdout.write(`HTTP ${answer.status}\n${answer.body}\n`);
    });
};
