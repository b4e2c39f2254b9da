import { decimalToMinor } from '../payment/decimal-amount';
import { paymentIdFromOrderNo } from '../payment/payment-id';
import type { StatementRow, StatementStatus } from './reconciliation';
import {
  columnsByName,
  missingColumn,
  parseCommentedTable,
  type ParsedStatement,
} from './statement-table';

/**
 * Alipay's trade bill (业务明细, from alipay.data.dataservice.bill.downloadurl.query with
 * bill_type=trade), already decoded from GBK: '#' title lines, a header of Chinese column names,
 * rows whose values often carry a trailing tab, '#' totals after the rows. Amounts are yuan with
 * 2 decimals (refund rows may carry a minus sign); times are Beijing time without an offset.
 * Our out_trade_no (商户订单号) is the payment id's 32 hex digits, as the Alipay gateway sends it.
 */
const ALIPAY_COLUMNS = {
  transactionId: ['支付宝交易号'],
  orderNo: ['商户订单号'],
  businessType: ['业务类型'],
  createdAt: ['创建时间'],
  finishedAt: ['完成时间'],
  amount: ['订单金额（元）'],
} as const;
type AlipayColumn = keyof typeof ALIPAY_COLUMNS;
const REQUIRED_COLUMNS: readonly AlipayColumn[] = [
  'transactionId',
  'orderNo',
  'businessType',
  'createdAt',
  'finishedAt',
  'amount',
];

const ALIPAY_STATUSES: Readonly<Record<string, StatementStatus>> = {
  交易: 'succeeded',
  退款: 'refunded',
};
const BEIJING_TIME_PATTERN = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Full-width and ASCII parentheses both occur in exported headers: compare names without the difference. */
const normalizeName = (name: string): string => name.replace(/（/g, '(').replace(/）/g, ')');

const alipayColumns = (header: readonly string[]): Record<AlipayColumn, number> | string => {
  const columns = columnsByName(header, ALIPAY_COLUMNS, normalizeName);
  return missingColumn(columns, ALIPAY_COLUMNS, REQUIRED_COLUMNS) ?? columns;
};

const beijingTimeMs = (text: string): number =>
  BEIJING_TIME_PATTERN.test(text) ? Date.parse(`${text.replace(' ', 'T')}+08:00`) : Number.NaN;

const alipayRow = (
  fields: readonly string[],
  columns: Readonly<Record<AlipayColumn, number>>,
): StatementRow | string => {
  const value = (name: AlipayColumn): string => (fields[columns[name]] ?? '').trim();
  const paymentId = paymentIdFromOrderNo(value('orderNo'));
  const status = ALIPAY_STATUSES[value('businessType')];
  const amountMinor = decimalToMinor(value('amount').replace(/^-/, ''), 2);
  const occurredMs = beijingTimeMs(
    value('finishedAt') === '' ? value('createdAt') : value('finishedAt'),
  );
  if (value('transactionId') === '' || value('transactionId').length > 128)
    return '支付宝交易号 is empty or too long';
  if (paymentId === null) return `商户订单号 '${value('orderNo')}' is not one of our payment ids`;
  if (status === undefined) return `unknown 业务类型 '${value('businessType')}'`;
  if (amountMinor === null || amountMinor === 0)
    return `订单金额（元） '${value('amount')}' is not an amount in yuan`;
  if (Number.isNaN(occurredMs)) return '完成时间 is not a time yyyy-MM-dd HH:mm:ss';
  return {
    paymentId,
    channelTransactionId: value('transactionId'),
    status,
    amountMinor,
    currency: 'CNY',
    occurredAt: new Date(occurredMs).toISOString(),
  };
};

/** Parses a whole Alipay trade bill; the first bad line stops it. */
export const parseAlipayStatement = (text: string): ParsedStatement =>
  parseCommentedTable(text, { columns: alipayColumns, row: alipayRow });
