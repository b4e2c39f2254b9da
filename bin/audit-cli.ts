import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { BalanceReport } from '../domain/audit/balance-audit';
import { createSqliteSnapshotStore } from '../adapters/snapshots/sqlite.snapshot-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { accountAggregate } from '../domain/account/account.decider';
import { accountView } from '../domain/account/account.view';
import { auditSnapshotsOf, type SnapshotReport } from '../domain/audit/snapshot-audit';
import type { EventStore } from '../domain/ports/event-store.port';
import type { SnapshotStore } from '../domain/ports/snapshot-store.port';
import { trafficShardFold } from '../domain/traffic/traffic.decider';
import {
  eventJsonLine,
  forEachEvent,
  reconcileBalances,
  type PageProgress,
} from '../projections/audit-toolkit';
import { createGenerationRegistry } from '../projections/generations';
import { accountAt } from '../projections/point-in-time';
import { checkpointOf } from '../projections/read-models';
import { exportDataDirBundle } from './audit-checkpoint-cli';
import { reconcileSummary, snapshotsSummary } from './audit-summaries';
import {
  longCommand,
  positionArgument,
  printResult,
  withProgress,
  type LongCommandOptions,
} from './cli-kit';

import { loadConfig } from './config';
import { openEventStore } from './event-store';
import { openReadModelStore } from './read-side';
import { SERVICE_FILE_NAME } from './service';

type ExportOptions = LongCommandOptions & {
  stream?: string;
  after?: bigint;
  out?: string;
  bundle?: boolean;
};

export { auditBalances, verifyChains, verifyStream } from '../projections/audit-toolkit';

/** Writes the log after `afterPosition` (or one stream) as JSON lines; returns how many. */
export const exportLog = async (
  store: EventStore,
  options: {
    stream: string | null;
    afterPosition: bigint | null;
    pageEventCountMax: number;
    onPage?: PageProgress;
  },
  write: (line: string) => void,
): Promise<number> => {
  if (options.stream === null)
    return forEachEvent(
      store,
      (event) => write(eventJsonLine(event)),
      { afterPosition: options.afterPosition, untilPosition: null },
      options.onPage,
    );
  let fromRevision = 0;
  let count = 0;
  for (;;) {
    const page = await store.readStream(options.stream, {
      fromRevision,
      direction: 'forwards',
      eventCountMax: options.pageEventCountMax,
    });
    page.forEach((event) => write(eventJsonLine(event)));
    count += page.length;
    const last = page[page.length - 1];
    if (last === undefined) return count;
    options.onPage?.(count, last.position);
    fromRevision = last.revision + 1;
  }
};

/** Every snapshot of the aggregates that have a codec (accounts, traffic) against the log. */
export const auditSnapshots = async (
  store: EventStore,
  snapshots: SnapshotStore,
  onChecked: (checkedCount: number, position: bigint) => void = () => undefined,
): Promise<SnapshotReport> => {
  const report: SnapshotReport = { checkedCount: 0, mismatches: [], unusable: [] };
  // Progress counts snapshots loaded: the audit judges each one it loads.
  const counting: SnapshotStore = {
    ...snapshots,
    load: async (stream) => {
      const saved = await snapshots.load(stream);
      if (saved !== null) onChecked(report.checkedCount + 1, saved.position);
      return saved;
    },
  };
  const sources = { store, snapshots: counting, pageEventCountMax: 1000 };
  await auditSnapshotsOf(accountAggregate, sources, report);
  await auditSnapshotsOf(trafficShardFold, sources, report);
  return report;
};

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `90s`, `30m`, `1h`, `2d`, `500ms` → milliseconds (a positive whole number of a unit). */
export const durationOption = (value: string): number => {
  const match = /^([0-9]{1,9})(ms|s|m|h|d)$/.exec(value.trim());
  const unitMs = match === null ? undefined : DURATION_UNIT_MS[match[2] ?? ''];
  const count = Number(match?.[1]);
  if (unitMs === undefined || count <= 0)
    throw new InvalidArgumentError('must be a positive duration such as 90s, 30m, 1h or 2d');
  return count * unitMs;
};

/**
 * The verdict of `audit balances`: exit 1 unless balanced, no transfer half-written and no hold
 * pending for longer than allowed; the stale holds are also named on stderr, oldest first.
 */
export const balancesVerdict = (report: BalanceReport): { exitCode: 0 | 1; problems: string[] } => {
  const problems: string[] = [];
  if (!report.balanced) problems.push('Σ credits − Σ debits is not zero in every currency');
  if (report.openTransferCount > 0)
    problems.push(`${report.openTransferCount} transfers are between their legs`);
  if (report.stalePendingHoldCount > 0) {
    const ageS = Math.round(report.pendingOlderThanMs / 1000);
    problems.push(
      `${report.stalePendingHoldCount} pending holds older than ${ageS} s (--pending-older-than):`,
      ...report.stalePendingHolds.map(
        (hold) =>
          `  ${hold.transferId}: ${hold.amountMinor} ${hold.currency} ${hold.debitAccountId} → ${hold.creditAccountId}, pending since ${hold.pendingSince} (${Math.round(hold.ageMs / 1000)} s), reference ${hold.reference}`,
      ),
    );
  }
  return { exitCode: problems.length === 0 ? 0 : 1, problems };
};

const positionOption = (value: string): bigint => {
  if (!/^[0-9]{1,20}$/.test(value)) throw new Error('--after must be a log position (digits)');
  return BigInt(value);
};

export const instantOption = (value: string): number => {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms))
    throw new InvalidArgumentError('must be an ISO 8601 instant, e.g. 2026-12-01T00:00:00Z');
  return ms;
};

/** `ledger audit balance <accountId> --at|--as-of`: one account folded from its stream. */
const registerBalanceCommand = (audit: Command): void => {
  audit
    .command('balance <accountId>')
    .description('one account as it was at a log position or an instant, folded from its stream')
    .option('--at <position>', 'every event up to this global position', positionArgument)
    .option('--as-of <instant>', 'every event that occurred up to this instant', instantOption)
    .option('--json', 'print the result as one JSON document on stdout')
    .action(async (accountId: string, options: { at?: bigint; asOf?: number; json?: boolean }) => {
      if ((options.at === undefined) === (options.asOf === undefined))
        throw new InvalidArgumentError('give exactly one of --at and --as-of');
      const point =
        options.at === undefined ? { asOfMs: options.asOf as number } : { position: options.at };
      const store = openEventStore(loadConfig(process.env));
      try {
        const { state, position } = await accountAt(store, accountId, point);
        const account = state.status === 'unopened' ? null : accountView(state);
        printResult(
          { json: options.json === true, progressEveryMs: 0 },
          { accountId, account, position },
          () =>
            account === null
              ? `${accountId}: not open at that point\n`
              : `${accountId}: balance ${account.balanceMinor} ${account.currency} (available ${account.availableMinor}), last event at position ${position ?? 'none'}\n`,
        );
        process.exitCode = account === null ? 1 : 0;
      } finally {
        await store.close();
      }
    });
};

/** `ledger audit export|snapshots|reconcile|balance`, beside balances and verify (bin/ledger.ts). */
export const registerAuditCommands = (audit: Command): void => {
  registerBalanceCommand(audit);
  longCommand(
    audit
      .command('export')
      .description('write the whole log (after --after) or one --stream as JSON lines')
      .option('--stream <stream>', 'one stream, e.g. payment-<id>')
      .option('--after <position>', 'start after this global position', positionOption)
      .option('--out <file>', 'write the lines to this file instead of stdout')
      .option(
        '--bundle',
        'a bundle that verifies offline: the signed checkpoints, the public keys and every event up to the latest checkpoint (one signed first)',
      ),
  ).action(async (options: ExportOptions) => {
    if (options.json === true && options.out === undefined)
      throw new Error('--json needs --out: without it stdout carries the events');
    if (options.bundle === true && (options.stream !== undefined || options.after !== undefined))
      throw new Error('--bundle exports the whole log: leave out --stream and --after');
    const config = loadConfig(process.env);
    const store = openEventStore(config);
    const out = options.out === undefined ? null : createWriteStream(options.out);
    const write = (line: string) => (out ?? process.stdout).write(`${line}\n`);
    try {
      const exportOptions = {
        stream: options.stream ?? null,
        afterPosition: options.after ?? null,
        pageEventCountMax: 1000,
      };
      const eventCount = await withProgress(
        options,
        {
          label: 'audit export',
          endPosition: options.stream === undefined ? await store.headPosition() : null,
        },
        async (onPage) =>
          options.bundle === true
            ? (await exportDataDirBundle(config, store, write, onPage)).eventCount
            : exportLog(store, { ...exportOptions, onPage }, write),
      );
      if (out !== null) await new Promise((resolve) => out.end(resolve));
      if (out !== null)
        printResult(options, { eventCount, out: options.out }, () => `${eventCount} events\n`);
    } finally {
      await store.close();
    }
  });
  longCommand(
    audit
      .command('snapshots')
      .description(
        'check every actor snapshot against the fold of its stream; exit 1 if one that actors would use differs from the log',
      ),
  ).action(async (options: LongCommandOptions) => {
    const config = loadConfig(process.env);
    const eventStore = openEventStore(config);
    const database = openSqliteDatabase(join(config.dataDir, SERVICE_FILE_NAME));
    try {
      const report = await withProgress(
        options,
        { label: 'audit snapshots', endPosition: null, unit: 'snapshots' },
        (onPage) => auditSnapshots(eventStore, createSqliteSnapshotStore(database), onPage),
      );
      printResult(options, report, () => snapshotsSummary(report));
      process.exitCode = report.mismatches.length === 0 ? 0 : 1;
    } finally {
      database.close();
      await eventStore.close();
    }
  });
  longCommand(
    audit
      .command('reconcile')
      .description(
        'recompute every balance from events and compare with the read models; exit 1 on any difference or imbalance',
      ),
  ).action(async (options: LongCommandOptions) => {
    const config = loadConfig(process.env);
    const eventStore = openEventStore(config);
    const readModels = await openReadModelStore({
      dataDir: config.dataDir,
      mongodbUrl: config.mongodbUrl,
    });
    try {
      const registry = createGenerationRegistry(readModels);
      await registry.ensure();
      const generation = (await registry.active()) ?? 0;
      const checkpoint = await readModels.readCheckpoint(checkpointOf(generation));
      const report = await withProgress(
        options,
        { label: 'audit reconcile', endPosition: checkpoint?.position ?? null },
        (onPage) => reconcileBalances(eventStore, readModels, generation, onPage),
      );
      printResult(options, report, () => reconcileSummary(report));
      const clean =
        report.mismatchCount === 0 &&
        report.balances.balanced &&
        report.balances.openTransferCount === 0;
      process.exitCode = clean ? 0 : 1;
    } finally {
      await readModels.close();
      await eventStore.close();
    }
  });
};
