import type { BalanceReport } from '../domain/audit/balance-audit';
import type { LogVerification } from '../domain/audit/log-verifier';
import type { SnapshotReport } from '../domain/audit/snapshot-audit';
import type { reconcileBalances, verifyChains } from '../projections/audit-toolkit';
import type { BalancesAtReport } from '../projections/balances-at';
import type { RebuildSummary } from '../projections/read-side';

/** The human summaries of the long CLI commands (`--json` prints their reports instead). */
type ChainReport = Awaited<ReturnType<typeof verifyChains>>;
type ReconcileReport = Awaited<ReturnType<typeof reconcileBalances>>;

const lines = (...texts: string[]): string => texts.map((text) => `${text}\n`).join('');

export const balancesSummary = (report: BalanceReport): string =>
  lines(
    ...report.currencies.map((totals) => {
      const credits = totals.creditsPostedMinor + totals.creditsPendingMinor;
      const debits = totals.debitsPostedMinor + totals.debitsPendingMinor;
      return `${totals.currency}: ${totals.accountCount} accounts, Σ credits − Σ debits = ${credits - debits}`;
    }),
    `${report.eventCount} events, ${report.openTransferCount} open transfers: ${
      report.balanced && report.openTransferCount === 0 ? 'balanced' : 'NOT balanced'
    }`,
    `${report.stalePendingHoldCount} pending holds older than ${Math.round(report.pendingOlderThanMs / 1000)} s`,
  );

/** `audit balances --at|--as-of`: every account then, then the per-currency check. */
export const balancesAtSummary = (report: BalancesAtReport): string =>
  lines(
    `as the log stood at position ${report.position ?? 'none'}:`,
    ...report.accounts.map(
      (account) =>
        `${account.accountId}: balance ${account.balanceMinor} ${account.currency} (available ${account.availableMinor})`,
    ),
  ) + balancesSummary(report);

const chainsSummary = (report: ChainReport): string =>
  report.broken === null
    ? lines(`${report.eventCount} events in ${report.streamCount} streams: every chain intact`)
    : lines(
        `BROKEN: ${report.broken.stream} at revision ${report.broken.revision}`,
        `  hash expected ${report.broken.hashExpected}`,
        `  hash found    ${report.broken.hashFound}`,
      );

const findingLine = (finding: LogVerification['findings'][number]): string => {
  switch (finding.kind) {
    case 'stream_tail_missing':
      return `TAIL MISSING: ${finding.stream} revisions ${finding.fromRevision}..${finding.toRevision} (checkpoint ${finding.sequence} signed revision ${finding.toRevision})`;
    case 'stream_rewritten':
      return (
        `REWRITTEN: ${finding.stream} at revision ${finding.revision}: hash differs from checkpoint ${finding.sequence}` +
        ` (changed at a revision in ${(finding.unchangedUpToRevision ?? -1) + 1}..${finding.revision})`
      );
    case 'log_truncated':
    case 'log_events_inserted':
      return `${finding.kind === 'log_truncated' ? 'LOG TRUNCATED' : 'EVENTS INSERTED'}: checkpoint ${finding.sequence} signed ${finding.eventCountSigned} events up to position ${finding.headPositionSigned ?? 'none'}; the log holds ${finding.eventCountFound} up to it and ends at position ${finding.headPositionFound ?? 'none'}`;
    case 'checkpoint_copy_differs':
      return `CHECKPOINT COPY DIFFERS: checkpoint ${finding.sequence} in the log is not the one in the checkpoint store`;
    case 'checkpoint_copy_unknown':
      return `CHECKPOINT COPY UNKNOWN: the log holds checkpoint ${finding.sequence}, which the checkpoint store does not`;
    case 'checkpoint_copy_malformed':
      return `CHECKPOINT COPY MALFORMED: auditcheckpoints-log at revision ${finding.revision}`;
  }
};

/** `ledger audit verify`: the chains, the checkpoints, then every finding, one a line. */
export const verificationSummary = (report: LogVerification): string =>
  chainsSummary(report) +
  lines(
    report.latestCheckpoint === null
      ? report.checkpointCount === 0
        ? 'no signed checkpoint: a deleted tail or a truncated log cannot be told'
        : 'no trusted checkpoint'
      : `checked against checkpoint ${report.latestCheckpoint.sequence} of ${report.latestCheckpoint.createdAt} (head position ${report.latestCheckpoint.headPosition ?? 'none'}) and the ${report.latestCheckpoint.sequence - 1} before it, ${report.checkpointSource === 'log' ? "from the log's own copies (no checkpoint store)" : `from the checkpoint store; ${report.inLogCheckpointCount} copies in the log`}`,
    ...report.checkpointProblems.map(
      (found) => `CHECKPOINT ${found.sequence} UNTRUSTED: ${found.problem}`,
    ),
    ...report.findings.map(findingLine),
    report.ok ? 'OK' : 'FAILED',
  );

export const snapshotsSummary = (report: SnapshotReport): string =>
  lines(
    `${report.checkedCount} snapshots checked: ${report.mismatches.length} differ from the log, ${report.unusable.length} unusable`,
    ...report.mismatches.map(
      (found) => `  differs: ${found.stream}@${found.revision} ${found.reason}`,
    ),
    ...report.unusable.map(
      (found) => `  unusable: ${found.stream}@${found.revision} ${found.reason}`,
    ),
  );

export const reconcileSummary = (report: ReconcileReport): string =>
  lines(
    `generation ${report.generation} at position ${report.checkedPosition ?? 'none'}: ${report.accountCount} accounts, ${report.matchedCount} match, ${report.movedOnCount} moved on, ${report.mismatchCount} differ`,
    ...report.mismatches.map(
      (found) =>
        `  ${found.accountId} ${found.field}: events ${found.fromEvents ?? '-'}, read model ${found.inReadModel ?? '-'}`,
    ),
  ) + balancesSummary(report.balances);

export const rebuildSummary = (summary: RebuildSummary): string =>
  lines(
    `generation ${summary.generation}: ${summary.events} events in ${summary.seconds} s (${summary.eventsPerSecond} events/s), ${summary.switched ? 'switched to it' : 'not switched (a snapshot)'}`,
  );
