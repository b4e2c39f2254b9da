import type { JSONSchemaType } from 'ajv';
import { paymentChannels } from '../../domain/payment/payment.decider';
import { loadLedgerPayments } from '../../domain/reconciliation/ledger-payments';
import { reconcile } from '../../domain/reconciliation/reconciliation';
import { formatReconciliationTable } from '../../domain/reconciliation/reconciliation-table';
import {
  parseStatementCsv,
  statementFormats,
  type StatementFormat,
} from '../../domain/reconciliation/statement-csv';
import type { ReconciliationStore } from '../../domain/ports/reconciliation-store.port';
import type { ManualRunOutcome } from '../../domain/reconciliation/daily-run';
import { sendError, sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams, validateQuery } from '../middleware/validate';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { instantSchema, pageNumSchema, pageSizeSchema } from '../schemas/common.schema';
import { securityAuditOf } from './ledger-services';
import type { ChannelServices } from './payment-payer.route';

/** A statement may hold many rows: this route reads bodies up to this size. */
const STATEMENT_BYTES_MAX = 32 * 1024 * 1024;
export const RECONCILIATION_PAGE_EVENT_COUNT_MAX = 1000;

type ReconciliationBody = {
  channel: string;
  format?: StatementFormat;
  statementCsv: string;
  from?: string;
  to?: string;
};
const reconciliationSchema: JSONSchemaType<ReconciliationBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['channel', 'statementCsv'],
  properties: {
    channel: { type: 'string', enum: [...paymentChannels] },
    format: { type: 'string', enum: [...statementFormats], nullable: true },
    statementCsv: { type: 'string', minLength: 1, maxLength: STATEMENT_BYTES_MAX },
    from: { ...instantSchema, nullable: true },
    to: { ...instantSchema, nullable: true },
  },
};

/** The statement format a channel's statements come in, unless the request names another. */
export const defaultStatementFormat = (channel: string): StatementFormat =>
  statementFormats.find((format) => format === channel) ?? 'sandbox';

/** POST /v1/reconciliations: a channel statement against the ledger, as JSON and as a table. */
export const reconciliationRoutes =
  (channels: ChannelServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const body = validateBody(reconciliationSchema);
    kit.router.post(
      '/reconciliations',
      requireScope('audit:read'),
      kit.jsonBody({ bytesMax: STATEMENT_BYTES_MAX }),
      body,
      kit.idempotency(),
      async (ctx) => {
        const {
          channel,
          statementCsv,
          from,
          to,
          format = defaultStatementFormat(channel),
        } = body.read(ctx);
        const statement = parseStatementCsv(statementCsv, format);
        if (!statement.ok)
          return sendError(ctx, 'statement_invalid', {
            msg: `statement line ${statement.line}: ${statement.reason}`,
            data: { line: statement.line },
          });
        const ledger = await loadLedgerPayments(
          channels.eventStore,
          channel,
          RECONCILIATION_PAGE_EVENT_COUNT_MAX,
        );
        const period = {
          fromMs: from === undefined ? null : Date.parse(from),
          toMs: to === undefined ? null : Date.parse(to),
        };
        const report = reconcile(statement.rows, ledger, period);
        sendOk(ctx, { channel, format, report, table: formatReconciliationTable(report) });
      },
    );
  };

type ReportListQuery = { channel?: string; page_num?: number; page_size?: number };
const reportListSchema: JSONSchemaType<ReportListQuery> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    channel: { type: 'string', enum: [...paymentChannels], nullable: true },
    page_num: { ...pageNumSchema, nullable: true },
    page_size: { ...pageSizeSchema, nullable: true },
  },
};
const REPORT_ID_PATTERN = '^[a-z]{1,16}-\\d{4}-\\d{2}-\\d{2}(-manual-\\d{1,16})?$';
const reportParamsSchema: JSONSchemaType<{ reportId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId'],
  properties: { reportId: { type: 'string', pattern: REPORT_ID_PATTERN } },
};
const itemParamsSchema: JSONSchemaType<{ reportId: string; itemId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId', 'itemId'],
  properties: {
    reportId: { type: 'string', pattern: REPORT_ID_PATTERN },
    itemId: { type: 'string', pattern: '^[1-9]\\d{0,8}$' },
  },
};
const NOTE_LENGTH_MAX = 2000;
const resolveSchema: JSONSchemaType<{ note: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['note'],
  properties: {
    note: { type: 'string', minLength: 1, maxLength: NOTE_LENGTH_MAX, pattern: '\\S' },
  },
};
const DEFAULT_REPORT_PAGE_SIZE = 20;

type RunBody = { channel: string; day?: string };
const runSchema: JSONSchemaType<RunBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['channel'],
  properties: {
    channel: { type: 'string', enum: [...paymentChannels] },
    day: { type: 'string', format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$', nullable: true },
  },
};

/** Runs the daily reconciliation of a day now (bin/reconciliation.ts runNow). */
export type RunReconciliationNow = (
  channel: string,
  day: string | null,
) => Promise<ManualRunOutcome>;

/**
 * The daily reconciliation's reports: GET /v1/reconciliations (newest day first, by channel),
 * GET /v1/reconciliations/{reportId}, POST .../items/{itemId}/resolve with a note (audited), and
 * POST /v1/reconciliations/runs: the daily run of a day now, as its own manual report.
 */
export const reconciliationReportRoutes =
  (deps: {
    store: ReconciliationStore;
    nowMs: () => number;
    runNow?: RunReconciliationNow;
  }): RouteRegistrar =>
  (kit: RouteKit) => {
    const readers = requireScope('reconciliations:read');
    const list = validateQuery(reportListSchema);
    const reportParams = validateParams(reportParamsSchema);
    const itemParams = validateParams(itemParamsSchema);
    const resolveBody = validateBody(resolveSchema);
    const runBody = validateBody(runSchema);
    const { runNow } = deps;

    if (runNow !== undefined)
      kit.router.post(
        '/reconciliations/runs',
        requireScope('reconciliations:write'),
        kit.jsonBody(),
        runBody,
        kit.idempotency(),
        async (ctx) => {
          const { channel, day = null } = runBody.read(ctx);
          const outcome = await runNow(channel, day);
          if (!outcome.ok) {
            const data = { channel, day };
            if (outcome.reason === 'day_in_future')
              return sendError(ctx, 'reconciliation_day_in_future', { data });
            if (outcome.reason === 'channel_not_fetched')
              return sendError(ctx, 'reconciliation_statement_unfetched', { data });
            return sendError(ctx, 'channel_not_configured', { data });
          }
          const { report, repairedCount } = outcome;
          const ranBy = clientOf(ctx).clientId;
          securityAuditOf(ctx)?.report('admin_action', ranBy, {
            action: 'reconciliation_run',
            reportId: report.reportId,
          });
          kit.logger.info('reconciliation_run_requested', {
            reportId: report.reportId,
            ranBy,
            requestId: ctx.state.requestId,
          });
          sendOk(ctx, { report, repairedCount, openItemCount: report.openItemCount }, 201);
        },
      );

    kit.router.get('/reconciliations', readers, list, async (ctx) => {
      const {
        channel = null,
        page_num: pageNum = 1,
        page_size: pageSize = DEFAULT_REPORT_PAGE_SIZE,
      } = list.read(ctx);
      const { reports, totalCount } = await deps.store.list({ channel, pageNum, pageSize });
      sendOk(ctx, {
        reports,
        page_num: pageNum,
        page_size: pageSize,
        total_count: totalCount,
        total_page: Math.ceil(totalCount / pageSize),
      });
    });

    kit.router.get('/reconciliations/:reportId', readers, reportParams, async (ctx) => {
      const { reportId } = reportParams.read(ctx);
      const report = await deps.store.get(reportId);
      if (report === null)
        return sendError(ctx, 'reconciliation_not_found', { data: { reportId } });
      sendOk(ctx, { report });
    });

    kit.router.post(
      '/reconciliations/:reportId/items/:itemId/resolve',
      requireScope('reconciliations:write'),
      itemParams,
      kit.jsonBody(),
      resolveBody,
      kit.idempotency(),
      async (ctx) => {
        const { reportId, itemId } = itemParams.read(ctx);
        const { note } = resolveBody.read(ctx);
        const resolvedBy = clientOf(ctx).clientId;
        const resolution = { note, resolvedBy, resolvedAt: new Date(deps.nowMs()).toISOString() };
        const outcome = await deps.store.resolve(reportId, itemId, resolution);
        if (outcome === 'report_not_found')
          return sendError(ctx, 'reconciliation_not_found', { data: { reportId } });
        if (outcome === 'item_not_found')
          return sendError(ctx, 'reconciliation_item_not_found', { data: { reportId, itemId } });
        if (outcome === 'item_not_open')
          return sendError(ctx, 'reconciliation_item_not_open', { data: { reportId, itemId } });
        securityAuditOf(ctx)?.report('admin_action', resolvedBy, {
          action: 'reconciliation_item_resolved',
          reportId,
          itemId,
        });
        kit.logger.info('reconciliation_item_resolved', {
          reportId,
          itemId,
          resolvedBy,
          requestId: ctx.state.requestId,
        });
        const report = await deps.store.get(reportId);
        const item = report?.items.find((found) => found.itemId === itemId) ?? null;
        sendOk(ctx, { reportId, item });
      },
    );
  };
