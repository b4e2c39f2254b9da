import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { accountView } from '../../domain/account/account.view';
import type { EventStore } from '../../domain/ports/event-store.port';
import { balancesAt } from '../../projections/balances-at';
import { accountAt, type PointInTime } from '../../projections/point-in-time';
import { writeHistory } from './support/ledger-fixture';

const options = { pendingOlderThanMs: 60_000, staleHoldListedCountMax: 10 };
const instant = (time: string): PointInTime => ({ asOfMs: Date.parse(`2026-11-22T${time}Z`) });

describe('balancesAt: every account as the log stood at a point', () => {
  let store: EventStore;
  beforeAll(async () => {
    store = createInMemoryEventStore();
    await writeHistory(store);
  });

  it('folds every account up to a position, each equal to its own stream folded there', async () => {
    const [posted] = await store.readStream('transfer-t-1', {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 1,
    });
    const point = { position: posted?.position ?? -1n };
    const report = await balancesAt(store, point, options);
    expect(report.position).toBe(point.position);
    expect(report.balanced).toBe(true);
    const balances = Object.fromEntries(report.accounts.map((a) => [a.accountId, a.balanceMinor]));
    expect(balances).toEqual({ clearing: -1000, 'wallet-a': 1000, 'wallet-b': 0 });
    for (const account of report.accounts) {
      const { state } = await accountAt(store, account.accountId, point);
      expect(state.status === 'unopened' ? null : accountView(state)).toEqual(account);
    }
  });

  it('folds up to an instant and counts holds as stale relative to it, not to now', async () => {
    const pending = await balancesAt(store, instant('10:13:30.000'), options);
    expect(pending.pendingHoldCount).toBe(1); // t-3, pending since 10:13, 30 s before the point.
    expect(pending.stalePendingHoldCount).toBe(0);
    const wallet = pending.accounts.find((account) => account.accountId === 'wallet-a');
    expect(wallet).toMatchObject({ balanceMinor: 1250, creditsPendingMinor: 40 });
    const later = await balancesAt(store, instant('10:13:30.000'), {
      ...options,
      pendingOlderThanMs: 10_000,
    });
    expect(later.stalePendingHoldCount).toBe(1);
  });

  it('finds nothing before the first event', async () => {
    const report = await balancesAt(store, { position: 0n }, options);
    expect(report).toMatchObject({ position: null, accounts: [], currencies: [], eventCount: 0 });
  });
});
