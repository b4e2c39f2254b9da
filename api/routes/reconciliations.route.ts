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
import { sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateBody } from '../middleware/validate';
import { sendError } from '../envelope';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { instantSchema } from '../schemas/common.schema';
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
