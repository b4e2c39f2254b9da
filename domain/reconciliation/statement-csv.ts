import { isCurrency, isPositiveAmountMinor } from '../money';
import { decimalToMinor } from '../payment/decimal-amount';
import { paymentIdFromOrderNo } from '../payment/payment-id';
import { parseAlipayStatement } from './alipay-statement';
import type { StatementRow, StatementStatus } from './reconciliation';
import { STATEMENT_ROW_COUNT_MAX, splitCsvLine, type ParsedStatement } from './statement-table';
import { parseStripeStatement } from './stripe-statement';

export { splitCsvLine } from './statement-table';

/**
 * Channel statements as CSV. The sandbox's own (header below, amounts in minor units), WeChat
 * Pay's trade bill (downloadbill, bill_type ALL: Chinese headers, every value prefixed with a
 * backtick, amounts in yuan, Beijing time, a summary after the rows), Alipay's trade bill
 * (alipay-statement.ts) and Stripe's balance-transaction export (stripe-statement.ts).
 */
const SANDBOX_STATEMENT_HEADER =
  'payment_id,channel_transaction_id,status,amount_minor,currency,occurred_at';

export const statementFormats = ['sandbox', 'wechat', 'alipay', 'stripe'] as const;
export type StatementFormat = (typeof statementFormats)[number];

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const SANDBOX_STATUSES: readonly StatementStatus[] = ['succeeded', 'refunded', 'closed', 'failed'];

const sandboxRow = (fields: readonly string[]): StatementRow | string => {
  const [
    paymentId = '',
    channelTransactionId = '',
    status = '',
    amountText = '',
    currency = '',
    occurredAt = '',
  ] = fields;
  const amountMinor = /^\d{1,16}$/.test(amountText) ? Number(amountText) : Number.NaN;
  const knownStatus = SANDBOX_STATUSES.find((known) => known === status);
  if (fields.length !== 6) return `expected 6 fields, got ${fields.length}`;
  if (!UUID_PATTERN.test(paymentId)) return 'payment_id is not a uuid';
  if (channelTransactionId === '' || channelTransactionId.length > 128)
    return 'channel_transaction_id is empty or too long';
  if (knownStatus === undefined) return `unknown status '${status}'`;
  if (!isPositiveAmountMinor(amountMinor)) return 'amount_minor is not a positive integer';
  if (!isCurrency(currency)) return `unknown currency '${currency}'`;
  if (Number.isNaN(Date.parse(occurredAt))) return 'occurred_at is not an instant';
  return {
    paymentId,
    channelTransactionId,
    status: knownStatus,
    amountMinor,
    currency,
    occurredAt: new Date(occurredAt).toISOString(),
  };
};

const WECHAT_STATUSES: Readonly<Record<string, StatementStatus>> = {
  SUCCESS: 'succeeded',
  REFUND: 'refunded',
  REVOKED: 'closed',
  CLOSED: 'closed',
  PAYERROR: 'failed',
};
const WECHAT_COLUMNS = {
  time: '交易时间',
  transactionId: '微信订单号',
  orderNo: '商户订单号',
  status: '交易状态',
  currency: '货币种类',
  amount: '订单金额',
} as const;

const wechatRow = (
  fields: readonly string[],
  columns: Readonly<Record<keyof typeof WECHAT_COLUMNS, number>>,
): StatementRow | string => {
  const value = (name: keyof typeof WECHAT_COLUMNS): string =>
    (fields[columns[name]] ?? '').replace(/^`/, '').trim();
  const paymentId = paymentIdFromOrderNo(value('orderNo'));
  const status = WECHAT_STATUSES[value('status')];
  const currency = value('currency') === '' ? 'CNY' : value('currency');
  const amountMinor = decimalToMinor(value('amount'), 2);
  const occurredMs = Date.parse(`${value('time').replace(' ', 'T')}+08:00`);
  if (paymentId === null) return '商户订单号 is not one of our payment ids';
  if (status === undefined) return `unknown 交易状态 '${value('status')}'`;
  if (amountMinor === null || amountMinor === 0) return '订单金额 is not a positive amount';
  if (!isCurrency(currency)) return `unknown 货币种类 '${currency}'`;
  if (Number.isNaN(occurredMs)) return '交易时间 is not a time';
  return {
    paymentId,
    channelTransactionId: value('transactionId'),
    status,
    amountMinor,
    currency,
    occurredAt: new Date(occurredMs).toISOString(),
  };
};

const wechatColumns = (
  header: readonly string[],
): Record<keyof typeof WECHAT_COLUMNS, number> | string => {
  const names = header.map((name) => name.replace(/^\uFEFF/, '').trim());
  const columns = {} as Record<keyof typeof WECHAT_COLUMNS, number>;
  for (const [key, name] of Object.entries(WECHAT_COLUMNS) as [
    keyof typeof WECHAT_COLUMNS,
    string,
  ][]) {
    const index = names.indexOf(name);
    if (index < 0) return `missing column ${name}`;
    columns[key] = index;
  }
  return columns;
};

/** Parses a whole statement; the first bad line stops it (a statement is trusted whole or not at all). */
export const parseStatementCsv = (text: string, format: StatementFormat): ParsedStatement => {
  if (format === 'alipay') return parseAlipayStatement(text);
  if (format === 'stripe') return parseStripeStatement(text);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '') ?? [];
  const columns = format === 'wechat' ? wechatColumns(header) : null;
  if (typeof columns === 'string') return { ok: false, line: 1, reason: columns };
  if (format === 'sandbox' && header.join(',') !== SANDBOX_STATEMENT_HEADER)
    return { ok: false, line: 1, reason: `header must be ${SANDBOX_STATEMENT_HEADER}` };
  const rows: StatementRow[] = [];
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (line.trim() === '') continue;
    if (format === 'wechat' && line.startsWith('总交易单数')) break; // The summary follows the rows.
    if (rows.length >= STATEMENT_ROW_COUNT_MAX)
      return { ok: false, line: index + 1, reason: `more than ${STATEMENT_ROW_COUNT_MAX} rows` };
    const fields = splitCsvLine(line);
    if (fields === null) return { ok: false, line: index + 1, reason: 'unterminated quote' };
    const row = columns === null ? sandboxRow(fields) : wechatRow(fields, columns);
    if (typeof row === 'string') return { ok: false, line: index + 1, reason: row };
    rows.push(row);
  }
  return { ok: true, rows };
};

const csvField = (value: string): string =>
  /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;

/** The sandbox's statement text for these rows. */
export const formatSandboxStatement = (rows: readonly StatementRow[]): string =>
  [
    SANDBOX_STATEMENT_HEADER,
    ...rows.map((row) =>
      [
        row.paymentId,
        row.channelTransactionId,
        row.status,
        row.amountMinor.toString(),
        row.currency,
        row.occurredAt,
      ]
        .map(csvField)
        .join(','),
    ),
  ].join('\n') + '\n';
