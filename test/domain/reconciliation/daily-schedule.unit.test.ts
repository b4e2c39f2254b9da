import {
  addDays,
  dayBoundsMs,
  dueDays,
  localDayOf,
  nextRunAtMs,
  parseDailyAt,
  runAtMsOf,
} from '../../../domain/reconciliation/daily-schedule';

const at = { hour: 2, minute: 0 };
const ms = (iso: string): number => Date.parse(iso);
const none = { firstDay: null, doneDays: new Set<string>() };

describe('daily reconciliation schedule', () => {
  it('parses HH:MM and refuses anything else', () => {
    expect(parseDailyAt('02:00')).toEqual({ hour: 2, minute: 0 });
    expect(parseDailyAt('23:59')).toEqual({ hour: 23, minute: 59 });
    expect(parseDailyAt('24:00')).toBeNull();
    expect(parseDailyAt('2:00')).toBeNull();
    expect(parseDailyAt('02:60')).toBeNull();
  });

  it('bounds a local day in its time zone (Shanghai is UTC+8)', () => {
    expect(dayBoundsMs('2026-03-01', 'Asia/Shanghai')).toEqual({
      fromMs: ms('2026-02-28T16:00:00Z'),
      toMs: ms('2026-03-01T16:00:00Z'),
    });
    expect(localDayOf(ms('2026-02-28T16:00:00Z'), 'Asia/Shanghai')).toBe('2026-03-01');
    expect(localDayOf(ms('2026-02-28T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-02-28');
  });

  it('keeps a day 23 h long across a DST change (New York, 2026-03-08)', () => {
    const { fromMs, toMs } = dayBoundsMs('2026-03-08', 'America/New_York');
    expect(fromMs).toBe(ms('2026-03-08T05:00:00Z'));
    expect(toMs - fromMs).toBe(23 * 3600 * 1000);
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
  });

  it('runs a day at 02:00 local the day after, not a minute before', () => {
    const runAt = runAtMsOf('2026-03-01', at, 'Asia/Shanghai');
    expect(runAt).toBe(ms('2026-03-01T18:00:00Z'));
    expect(dueDays(runAt - 60_000, none, at, 'Asia/Shanghai', 31)).toEqual(['2026-02-28']);
    expect(dueDays(runAt, none, at, 'Asia/Shanghai', 31)).toEqual(['2026-03-01']);
    expect(nextRunAtMs(runAt, at, 'Asia/Shanghai')).toBe(runAt + 24 * 3600 * 1000);
  });

  it('catches up every missed day since the last one done, oldest first, bounded', () => {
    const nowMs = ms('2026-03-05T03:00:00Z');
    const reconciled = { firstDay: '2026-02-01', doneDays: new Set(['2026-03-01']) };
    expect(dueDays(nowMs, reconciled, at, 'UTC', 31)).toContain('2026-02-28');
    const recent = { firstDay: '2026-03-01', doneDays: new Set(['2026-03-01', '2026-03-03']) };
    expect(dueDays(nowMs, recent, at, 'UTC', 31)).toEqual(['2026-03-02', '2026-03-04']);
    expect(dueDays(nowMs, { firstDay: '2026-01-01', doneDays: new Set() }, at, 'UTC', 2)).toEqual([
      '2026-03-03',
      '2026-03-04',
    ]);
    const allDone = { firstDay: '2026-03-04', doneDays: new Set(['2026-03-04']) };
    expect(dueDays(nowMs, allDone, at, 'UTC', 31)).toEqual([]);
  });
});
