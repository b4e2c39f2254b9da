import { createSqliteEventStore } from '../../../adapters/eventstore/sqlite.event-store';
import { createDailyVolume } from '../../../domain/audit/daily-volume';
import { forEachEvent } from '../../../projections/audit-toolkit';
import { writeHistory } from '../../projections/support/ledger-fixture';

describe('the daily volume per currency', () => {
  it('counts posted transfers on their day: a pending one for the amount posted', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    try {
      // t-1 1000 and t-2 250 posted, t-3 holds 40 and posts 30, t-4 300: all on 2026-11-22.
      await writeHistory(store);
      const volume = createDailyVolume();
      await forEachEvent(store, (event) => volume.apply(event));
      expect(volume.report('2026-11-01')).toEqual([
        { day: '2026-11-22', currency: 'EUR', transferCount: 4, amountMinor: 1580n },
      ]);
      expect(volume.report('2026-11-23')).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
