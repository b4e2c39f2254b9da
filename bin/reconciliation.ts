import type { Logger } from 'winston';
import { sandboxStatement, readSandboxJournal } from '../adapters/channels/sandbox.journal';
import type { SandboxChannel } from '../adapters/channels/sandbox.gateway';
import { createWechatV2StatementSource } from '../adapters/channels/wechat/wechat-v2.statement';
import { serviceMetrics } from '../api/metrics';
import type { ActorRuntime } from '../domain/actors/actor-runtime';
import type { AlertSink } from '../domain/ports/alert.port';
import type { EventStore } from '../domain/ports/event-store.port';
import type {
  ReconciliationItem,
  ReconciliationReportRecord,
  ReconciliationStore,
  StatementSource,
} from '../domain/ports/reconciliation-store.port';
import { runReconciliationDay, type ManualRunOutcome } from '../domain/reconciliation/daily-run';
import {
  addDays,
  dueDays,
  latestDueDay,
  localDayOf,
} from '../domain/reconciliation/daily-schedule';
import type { ChannelConfig } from './channel-config';
import type { ReconciliationConfig } from './reconciliation-config';

type Limits = {
  tickMs: number;
  catchUpDayCountMax: number;
  retryPauseMs: number;
  pageEventCountMax: number;
};

type DailyReconciliationDeps = {
  config: ReconciliationConfig;
  sources: readonly StatementSource[];
  /** Configured channels whose statement the service cannot fetch yet: logged at start. */
  unfetchedChannels: readonly string[];
  store: ReconciliationStore;
  eventStore: EventStore;
  runtime: ActorRuntime;
  alerts: AlertSink;
  logger: Logger;
  clock: () => number;
  limits: Limits;
};

type DailyReconciliation = {
  /**
   * The daily run of `day` (default: today in RECONCILIATION_TIMEZONE) now, up to now when the day
   * is today, kept as its own manual report: the scheduled run of that day still happens. Same
   * fetch, comparison, repairs, alerts and metrics; a channel that fails throws (counted `failed`).
   */
  runNow: (channel: string, day: string | null) => Promise<ManualRunOutcome>;
  /** Open items per reconciled channel, 0 included (the gauge). */
  openItemCounts: () => Promise<{ channel: string; count: number }[]>;
  stop: () => Promise<void>;
};

/**
 * The sandbox's statement of a period: what `ledger sandbox pay` journalled and what the
 * sandbox's books hold (orders and refunds), by the time each row's outcome was reached.
 */
export const sandboxStatementSource = (
  dataDir: string,
  sandbox: Pick<SandboxChannel, 'statementRows' | 'refundRows'>,
): StatementSource => {
  const inPeriod =
    ({ fromMs, toMs }: { fromMs: number; toMs: number }) =>
    (row: { occurredAt: string }): boolean => {
      const atMs = Date.parse(row.occurredAt);
      return atMs >= fromMs && atMs < toMs;
    };
  return {
    channel: 'sandbox',
    statementRows: async (period) =>
      sandboxStatement(readSandboxJournal(dataDir), sandbox.statementRows()).filter(
        inPeriod(period),
      ),
    refundRows: async (period) => sandbox.refundRows().filter(inPeriod(period)),
  };
};

/**
 * The statements the service fetches by itself: the sandbox's, and WeChat Pay v2's trade bill.
 * The other configured channels are returned as unfetched (reconciled from downloaded files).
 */
export const statementSourcesOf = (deps: {
  channelConfig: ChannelConfig;
  dataDir: string;
  sandbox: Pick<SandboxChannel, 'statementRows' | 'refundRows'>;
  configuredChannels: readonly string[];
  timeoutMs: number;
}): { sources: StatementSource[]; unfetchedChannels: string[] } => {
  const sources = [sandboxStatementSource(deps.dataDir, deps.sandbox)];
  const { wechat } = deps.channelConfig;
  if (wechat !== null && wechat.apiVersion === 'v2' && wechat.v2 !== null)
    sources.push(
      createWechatV2StatementSource({
        appId: wechat.appId,
        mchId: wechat.mchId,
        apiKey: wechat.v2.apiKey,
        signType: wechat.v2.signType,
        baseUrl: wechat.baseUrl,
        timeoutMs: deps.timeoutMs,
      }),
    );
  const fetched = new Set(sources.map((source) => source.channel));
  return {
    sources,
    unfetchedChannels: deps.configuredChannels.filter((channel) => !fetched.has(channel)),
  };
};

/**
 * The one owner of the daily reconciliation's deadline. Every tick (and once at start, which
 * catches up the days a stopped service missed) it asks the pure schedule which days are due
 * per channel, and runs them one at a time, oldest first. A day whose run failed waits
 * `retryPauseMs`. Differences left open are alerted, one alert each, and counted in the gauge.
 */
export const startDailyReconciliation = (deps: DailyReconciliationDeps): DailyReconciliation => {
  const { config, store, logger, limits } = deps;
  const metrics = serviceMetrics();
  const failedAtMs = new Map<string, number>();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> = Promise.resolve();

  /** One run (scheduled or manual): its metric, its log, one alert per difference left open. */
  const runAndReport = async (
    source: StatementSource,
    day: string,
    manual: boolean,
  ): Promise<{ report: ReconciliationReportRecord; repairedCount: number }> => {
    let result: { report: ReconciliationReportRecord; leftOpen: ReconciliationItem[] };
    try {
      result = await runReconciliationDay(
        {
          store,
          eventStore: deps.eventStore,
          runtime: deps.runtime,
          pageEventCountMax: limits.pageEventCountMax,
          nowMs: deps.clock,
        },
        source,
        day,
        config.timeZone,
        { manual },
      );
    } catch (error: unknown) {
      metrics.reconciliationRuns.inc({ channel: source.channel, outcome: 'failed' });
      logger.warn('reconciliation_failed', {
        channel: source.channel,
        day,
        manual,
        retryInMs: manual ? null : limits.retryPauseMs,
        error: String(error),
      });
      throw error;
    }
    const { report, leftOpen } = result;
    const repairedCount = report.items.filter((item) => item.status === 'repaired').length;
    const outcome =
      report.openItemCount > 0 ? 'differences' : repairedCount > 0 ? 'repaired' : 'clean';
    metrics.reconciliationRuns.inc({ channel: source.channel, outcome });
    logger.info('reconciliation_completed', {
      reportId: report.reportId,
      channel: source.channel,
      day,
      manual,
      outcome,
      statementRowCount: report.statementRowCount,
      matchedCount: report.matchedCount,
      repairedCount,
      openItemCount: report.openItemCount,
    });
    for (const item of leftOpen) {
      deps.alerts.raise('reconciliation_difference', source.channel);
      logger.warn('reconciliation_difference', {
        reportId: report.reportId,
        itemId: item.itemId,
        channel: source.channel,
        kind: item.discrepancy.kind,
        paymentId: item.discrepancy.paymentId,
        repairOutcome: item.repair?.outcome ?? null,
      });
    }
    return { report, repairedCount };
  };

  const runDay = async (source: StatementSource, day: string): Promise<void> => {
    const key = `${source.channel}/${day}`;
    const failedAt = failedAtMs.get(key);
    if (failedAt !== undefined && deps.clock() < failedAt + limits.retryPauseMs) return;
    try {
      await runAndReport(source, day, false);
      failedAtMs.delete(key);
    } catch {
      failedAtMs.set(key, deps.clock()); // counted and logged by runAndReport
    }
  };

  const tick = async (): Promise<void> => {
    const at = config.dailyAt;
    if (at === null) return;
    for (const source of deps.sources) {
      if (stopped) return;
      const nowMs = deps.clock();
      const sinceDay = addDays(
        latestDueDay(nowMs, at, config.timeZone),
        -limits.catchUpDayCountMax,
      );
      const reconciled = await store.reconciledDays(source.channel, sinceDay);
      const days = dueDays(nowMs, reconciled, at, config.timeZone, limits.catchUpDayCountMax);
      for (const day of days) if (!stopped) await runDay(source, day);
    }
  };

  const tickThenSchedule = async (): Promise<void> => {
    try {
      await tick();
    } catch (error: unknown) {
      logger.warn('reconciliation_schedule_failed', { error: String(error) });
    }
    schedule();
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      ticking = tickThenSchedule();
    }, limits.tickMs);
    timer.unref();
  };
  if (config.dailyAt !== null) {
    if (deps.unfetchedChannels.length > 0)
      logger.warn('reconciliation_statement_unsupported', {
        channels: deps.unfetchedChannels,
        detail:
          'reconcile their downloaded statements with `ledger reconcile` or POST /v1/reconciliations',
      });
    ticking = tickThenSchedule();
  }

  return {
    runNow: async (channel, day) => {
      const today = localDayOf(deps.clock(), config.timeZone);
      const runDay = day ?? today;
      if (runDay > today) return { ok: false, reason: 'day_in_future' };
      const source = deps.sources.find((found) => found.channel === channel);
      if (source === undefined)
        return {
          ok: false,
          reason: deps.unfetchedChannels.includes(channel)
            ? 'channel_not_fetched'
            : 'channel_not_configured',
        };
      return { ok: true, ...(await runAndReport(source, runDay, true)) };
    },
    openItemCounts: async () => {
      const counts = new Map(deps.sources.map((source) => [source.channel, 0]));
      for (const { channel, count } of await store.openItemCounts()) counts.set(channel, count);
      return [...counts].map(([channel, count]) => ({ channel, count }));
    },
    stop: async () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await ticking;
    },
  };
};
