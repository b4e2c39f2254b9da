import { isTimeZone, parseDailyAt, type DailyAt } from '../domain/reconciliation/daily-schedule';
import { ConfigError, type ReadVariable } from './config-rules';

/**
 * The daily reconciliation's schedule, the reconciliation part of bin/config.ts (whose
 * describeConfig documents its variables, bin/config-variables.ts).
 */
export type ReconciliationConfig = {
  /** Local time of the daily run; null: `off`, no automatic reconciliation. */
  dailyAt: DailyAt | null;
  /** IANA time zone of the day a statement covers and of `dailyAt`. */
  timeZone: string;
};

export const RECONCILIATION_DEFAULTS = {
  RECONCILIATION_DAILY_AT: '02:00',
  RECONCILIATION_TIMEZONE: 'UTC',
} as const;

export const loadReconciliationConfig = (read: ReadVariable): ReconciliationConfig => {
  const atText = read('RECONCILIATION_DAILY_AT') ?? RECONCILIATION_DEFAULTS.RECONCILIATION_DAILY_AT;
  const dailyAt = atText === 'off' ? null : parseDailyAt(atText);
  if (atText !== 'off' && dailyAt === null)
    throw new ConfigError(
      `RECONCILIATION_DAILY_AT must be HH:MM (00:00-23:59) or off, got '${atText}'`,
    );
  const timeZone =
    read('RECONCILIATION_TIMEZONE') ?? RECONCILIATION_DEFAULTS.RECONCILIATION_TIMEZONE;
  if (!isTimeZone(timeZone))
    throw new ConfigError(
      `RECONCILIATION_TIMEZONE must be an IANA time zone (e.g. Asia/Shanghai), got '${timeZone}'`,
    );
  return { dailyAt, timeZone };
};
