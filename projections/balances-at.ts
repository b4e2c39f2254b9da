import { accountAggregate, type AccountState } from '../domain/account/account.decider';
import { accountView } from '../domain/account/account.view';
import { parseStored } from '../domain/aggregate';
import {
  createBalanceAudit,
  type BalanceAuditOptions,
  type BalanceReport,
} from '../domain/audit/balance-audit';
import type { EventStore } from '../domain/ports/event-store.port';
import { forEachEvent, type PageProgress } from './audit-toolkit';
import { covers, type PointInTime } from './point-in-time';

/**
 * `ledger audit balances --at|--as-of`: every account's balance and the per-currency Σ check as
 * the log stood at a point, folded from the log in one pass (O(accounts) memory). Holds count as
 * stale relative to the point: its instant, or the time of the last event at or before its
 * position.
 */
export type BalancesAtReport = BalanceReport & {
  /** The position of the last event folded (null: none). */
  position: bigint | null;
  accounts: ReturnType<typeof accountView>[];
};

export const balancesAt = async (
  store: EventStore,
  point: PointInTime,
  options: Pick<BalanceAuditOptions, 'pendingOlderThanMs' | 'staleHoldListedCountMax'>,
  onPage?: PageProgress,
): Promise<BalancesAtReport> => {
  // Read by the audit only when it reports: the point's time, known once the fold has ended.
  const auditOptions: BalanceAuditOptions = { ...options, nowMs: 0 };
  const audit = createBalanceAudit(auditOptions);
  const accounts = new Map<string, AccountState>();
  let position: bigint | null = null;
  let lastOccurredAtMs: number | null = null;
  const untilPosition = 'position' in point ? point.position : null;
  await forEachEvent(
    store,
    (event) => {
      if (!covers(point, event)) return;
      audit.apply(event);
      position = event.position;
      lastOccurredAtMs = Date.parse(event.metadata.occurredAt);
      if (!event.stream.startsWith('account-')) return;
      const state = accounts.get(event.stream) ?? accountAggregate.initialState;
      accounts.set(
        event.stream,
        accountAggregate.evolve(state, parseStored(accountAggregate, event)),
      );
    },
    { afterPosition: null, untilPosition },
    onPage,
  );
  auditOptions.nowMs = 'asOfMs' in point ? point.asOfMs : (lastOccurredAtMs ?? 0);
  const views = [...accounts.values()].flatMap((state) =>
    state.status === 'unopened' ? [] : [accountView(state)],
  );
  views.sort((a, b) => a.accountId.localeCompare(b.accountId));
  return { ...audit.report(), position, accounts: views };
};
