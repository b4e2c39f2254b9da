#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { balancesAt } from '../projections/balances-at';
import type { PointInTime } from '../projections/point-in-time';
import { collectProcessMetrics } from '../api/metrics';
import {
  DEFAULT_PENDING_OLDER_THAN_MS,
  defaultBalanceAuditOptions,
} from '../domain/audit/balance-audit';
import { registerCheckpointCommands } from './audit-checkpoint-cli';
import { registerBackupCommands } from './backup-cli';
import {
  auditBalances,
  balancesVerdict,
  durationOption,
  instantOption,
  registerAuditCommands,
} from './audit-cli';
import { balancesAtSummary, balancesSummary } from './audit-summaries';
import {
  longCommand,
  positionArgument,
  positiveInteger,
  printResult,
  withProgress,
  type LongCommandOptions,
} from './cli-kit';
import { ConfigError, loadConfig, type Config } from './config';
import { acquireDataDirLock, DataDirLockedError } from './data-dir-lock';
import { openEventStore } from './event-store';
import { registerKeyCommands } from './keys-cli';
import { createLogger } from './logger';
import { registerReadSideCommands } from './read-side-cli';
import { registerChannelCommands } from './reconcile-cli';
import { registerReconciliationCommands } from './reconciliations-cli';
import { registerGovernanceCommands } from './governance-cli';
import { sandboxPay, sandboxRefund } from './sandbox-cli';
import { serviceUrlOf, startService } from './service';
import { startTracing } from './tracing';

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Every variable is checked, and DATA_DIR locked, before anything starts: a bad variable exits 2
 * with its name, a DATA_DIR held by another `serve` exits 2 with that process's pid.
 */
const validatedOrExit = <T>(load: () => T): T => {
  try {
    return load();
  } catch (error: unknown) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof DataDirLockedError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
};

const configOrExit = (): Config => validatedOrExit(() => loadConfig(process.env));

/** The configuration of a `ledger sandbox` command: refused (exit 2) when the sandbox is off. */
const sandboxConfigOrExit = (): Config =>
  validatedOrExit(() => {
    const config = loadConfig(process.env);
    if (!config.channels.sandboxEnabled)
      throw new ConfigError('the sandbox is switched off (SANDBOX_ENABLED=false)');
    return config;
  });

const print = (value: unknown): void => {
  process.stdout.write(
    `${JSON.stringify(value, (_key, field: unknown) => (typeof field === 'bigint' ? field.toString() : field), 2)}\n`,
  );
};

const serve = async (): Promise<void> => {
  const config = configOrExit();
  const lock = validatedOrExit(() => acquireDataDirLock(config.dataDir));
  // Released as the process exits: after stop on a signal (below), or when a failed start exits
  // 1, which ends whatever that start had begun. A process killed outright leaves a stale lock,
  // which the next `serve` takes over.
  process.once('exit', lock.release);
  const logger = createLogger(config.logLevel);
  collectProcessMetrics();
  // Before the service, so that its first spans already go to the exporter.
  const tracing = await startTracing(config.tracing);
  const service = await startService(config, logger);
  logger.info('service_started', {
    url: serviceUrlOf(config),
    eventStore: config.eventStoreUrl === null ? `sqlite in ${config.dataDir}` : 'eventstoredb',
    readModels: config.mongodbUrl === null ? 'sqlite' : 'mongodb',
    bus: config.nats === null ? 'in-process' : 'nats jetstream',
    tracing: config.tracing.otlpEndpoint === null ? 'off' : 'otlp',
    alertWebhook: config.alertWebhook === null ? 'off' : config.alertWebhook.format,
    adminCredentialFile: service.adminKeyFile ?? 'none: LEDGER_ADMIN_API_KEY is set',
  });
  for (const signal of SHUTDOWN_SIGNALS) {
    process.once(signal, () => {
      logger.info('service_stopping', { signal });
      service
        .stop()
        .then(() => tracing.stop())
        .then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error('service_stop_failed', { error: String(error) });
            process.exit(1);
          },
        );
    });
  }
};

const withStore = async <T>(
  work: (config: Config, store: ReturnType<typeof openEventStore>) => Promise<T>,
): Promise<T> => {
  const config = configOrExit();
  const store = openEventStore(config);
  try {
    return await work(config, store);
  } finally {
    await store.close();
  }
};

const program = new Command('ledger').description(
  'Event-sourced double-entry ledger and payment service',
);
program
  .command('serve')
  .description('serve the API (configuration from the environment)')
  .action(serve);

const audit = program.command('audit').description("auditor's checks over the event log");
type BalancesOptions = LongCommandOptions & {
  pendingOlderThan: number;
  at?: bigint;
  asOf?: number;
};
const pointOf = (options: BalancesOptions): PointInTime | null => {
  if (options.at !== undefined) return { position: options.at };
  return options.asOf === undefined ? null : { asOfMs: options.asOf };
};
longCommand(
  audit
    .command('balances')
    .description(
      'Σ credits − Σ debits per currency over all accounts, and pending holds older than --pending-older-than; exit 1 unless balanced with none',
    )
    .option(
      '--pending-older-than <duration>',
      'report holds (pending two-phase transfers) pending longer than this: 90s, 30m, 1h, 2d',
      durationOption,
      DEFAULT_PENDING_OLDER_THAN_MS,
    )
    .option(
      '--at <position>',
      'as the log stood at this global position, with every account',
      positionArgument,
    )
    .option(
      '--as-of <instant>',
      'as the log stood at this instant, with every account',
      instantOption,
    ),
).action(async (options: BalancesOptions) => {
  if (options.at !== undefined && options.asOf !== undefined)
    throw new InvalidArgumentError('give at most one of --at and --as-of');
  const auditOptions = {
    ...defaultBalanceAuditOptions(Date.now()),
    pendingOlderThanMs: options.pendingOlderThan,
  };
  const point = pointOf(options);
  const { report, summary } = await withStore(async (_config, store) =>
    withProgress(
      options,
      { label: 'audit balances', endPosition: await store.headPosition() },
      async (onPage) => {
        if (point === null) {
          const totals = await auditBalances(store, auditOptions, onPage);
          return { report: totals, summary: () => balancesSummary(totals) };
        }
        const then = await balancesAt(store, point, auditOptions, onPage);
        return { report: then, summary: () => balancesAtSummary(then) };
      },
    ),
  );
  printResult(options, report, summary);
  const verdict = balancesVerdict(report);
  for (const problem of verdict.problems) process.stderr.write(`${problem}\n`);
  process.exitCode = verdict.exitCode;
});
registerCheckpointCommands(audit);
registerAuditCommands(audit);
registerReadSideCommands(program);

const sandbox = program
  .command('sandbox')
  .description('play the sandbox payment channel against a running service');
sandbox
  .command('pay <paymentId>')
  .description('send a signed success (or --fail) callback for a payment')
  .option('--url <url>', 'service base URL (default http://HOST:PORT)')
  .option('--amount <amountMinor>', 'report another amount (to test mismatches)', positiveInteger)
  .option('--currency <currency>', 'report another currency')
  .option('--transaction-id <id>', 'channel transaction id (default: generated)')
  .option('--fail', 'report a failed payment')
  .option(
    '--lose-notification',
    "pay the order in the service's sandbox books but send no callback (found only by query)",
  )
  .action(
    async (
      paymentId: string,
      options: {
        url?: string;
        amount?: number;
        currency?: string;
        transactionId?: string;
        fail?: boolean;
        loseNotification?: boolean;
      },
    ) => {
      const { amount, ...rest } = options;
      print(
        await sandboxPay(
          sandboxConfigOrExit(),
          paymentId,
          amount === undefined ? rest : { ...rest, amountMinor: amount },
        ),
      );
    },
  );
sandbox
  .command('refund <paymentId> <refundId>')
  .description('send a signed refund result callback (--fail for a refusal)')
  .option('--url <url>', 'service base URL')
  .option('--fail', 'report a failed refund')
  .action(
    async (paymentId: string, refundId: string, options: { url?: string; fail?: boolean }) => {
      print(await sandboxRefund(sandboxConfigOrExit(), paymentId, refundId, options));
    },
  );

registerChannelCommands(program);
registerReconciliationCommands(program);
registerBackupCommands(program);
registerKeyCommands(program, configOrExit, print);
registerGovernanceCommands(program, configOrExit, print);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
