/**
 * When the daily reconciliation runs, decided in one pure place. The statement of a local day D
 * (in `timeZone`) is fetched and compared at D+1, `at` local time; a day is due once that
 * instant has passed and its report is not complete. Intl does the time-zone arithmetic (no
 * clock, no I/O): the caller passes `nowMs`.
 */
export type DailyAt = { hour: number; minute: number };

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const AT_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 24 * 60 * MS_PER_MINUTE;

/** 'HH:MM' (24 h) → DailyAt; null when malformed. */
export const parseDailyAt = (text: string): DailyAt | null => {
  const match = AT_PATTERN.exec(text);
  if (match === null) return null;
  return { hour: Number(match[1]), minute: Number(match[2]) };
};

/** True when Intl knows the IANA time-zone name. */
export const isTimeZone = (timeZone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
};

type LocalParts = { year: number; month: number; day: number; hour: number; minute: number };

const formatters = new Map<string, Intl.DateTimeFormat>();
const localPartsOf = (ms: number, timeZone: string): LocalParts => {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  const parts = new Map(format.formatToParts(ms).map((part) => [part.type, part.value]));
  const field = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.get(type));
  return {
    year: field('year'),
    month: field('month'),
    day: field('day'),
    hour: field('hour'),
    minute: field('minute'),
  };
};

/** The local calendar day ('YYYY-MM-DD') of an instant in `timeZone`. */
export const localDayOf = (ms: number, timeZone: string): string => {
  const { year, month, day } = localPartsOf(ms, timeZone);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
};

const utcMsOfDay = (day: string): number => {
  const match = DAY_PATTERN.exec(day);
  if (match === null) throw new RangeError(`not a day: ${day}`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
};

/** The day after (or `count` days after) a day. */
export const addDays = (day: string, count: number): string =>
  new Date(utcMsOfDay(day) + count * MS_PER_DAY).toISOString().slice(0, 10);

/**
 * The instant of a local wall-clock time: the UTC guess corrected by the zone's offset, twice
 * (the second pass settles a guess that fell across a DST change). A time skipped by a DST jump
 * lands just after it.
 */
const instantOfLocal = (day: string, minuteOfDay: number, timeZone: string): number => {
  const wallMs = utcMsOfDay(day) + minuteOfDay * MS_PER_MINUTE;
  let guessMs = wallMs;
  for (let pass = 0; pass < 2; pass += 1) {
    const local = localPartsOf(guessMs, timeZone);
    const localWallMs =
      Date.UTC(local.year, local.month - 1, local.day) +
      (local.hour * 60 + local.minute) * MS_PER_MINUTE;
    guessMs += wallMs - localWallMs;
  }
  return guessMs;
};

/** Half-open [fromMs, toMs) of a local day: what its statement covers. */
export const dayBoundsMs = (day: string, timeZone: string): { fromMs: number; toMs: number } => ({
  fromMs: instantOfLocal(day, 0, timeZone),
  toMs: instantOfLocal(addDays(day, 1), 0, timeZone),
});

/** When the run for `day` is due: the next day at `at`, local time. */
export const runAtMsOf = (day: string, at: DailyAt, timeZone: string): number =>
  instantOfLocal(addDays(day, 1), at.hour * 60 + at.minute, timeZone);

/** The most recent day whose run is due at nowMs. */
export const latestDueDay = (nowMs: number, at: DailyAt, timeZone: string): string => {
  const yesterday = addDays(localDayOf(nowMs, timeZone), -1);
  return runAtMsOf(yesterday, at, timeZone) <= nowMs ? yesterday : addDays(yesterday, -1);
};

/**
 * The days to reconcile now, oldest first: every due day of the last `catchUpDayCountMax` whose
 * report is not done, back to the first day ever reconciled (a day that failed is tried again at
 * the next tick). With none reconciled yet, the latest due day only: a new deployment does not
 * reconcile its past.
 */
export const dueDays = (
  nowMs: number,
  reconciled: { firstDay: string | null; doneDays: ReadonlySet<string> },
  at: DailyAt,
  timeZone: string,
  catchUpDayCountMax: number,
): string[] => {
  const latest = latestDueDay(nowMs, at, timeZone);
  const { firstDay, doneDays } = reconciled;
  if (firstDay === null) return [latest];
  const days: string[] = [];
  for (let back = catchUpDayCountMax - 1; back >= 0; back -= 1) {
    const day = addDays(latest, -back);
    if (day >= firstDay && !doneDays.has(day)) days.push(day);
  }
  return days;
};

/** When the next run falls due after nowMs. */
export const nextRunAtMs = (nowMs: number, at: DailyAt, timeZone: string): number =>
  runAtMsOf(addDays(latestDueDay(nowMs, at, timeZone), 1), at, timeZone);
