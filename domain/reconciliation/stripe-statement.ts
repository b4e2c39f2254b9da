import { isCurrency, minorUnitDigits } from '../money';
import { decimalToMinor } from '../payment/decimal-amount';
import type { StatementRow, StatementStatus } from './reconciliation';
import {
  columnsByName,
  missingColumn,
  parseCommentedTable,
  type ParsedStatement,
} from './statement-table';

/**
 * Stripe's balance-transaction CSVs: the itemized balance report (balance_change_from_activity.
 * itemized: snake_case names, payment_metadata[…] columns) and the Dashboard's balance export
 * (Title Case names, "… (metadata)" columns). Amounts are decimal major units, so the currency's
 * minor-unit exponent decides the conversion (JPY "1000" is 1000 yen, USD "10.00" is 1000 cents).
 * Our gateway sets metadata paymentId on each PaymentIntent and refund, and the ledger records
 * the PaymentIntent id as the channel transaction id. Payouts, fees and other categories carry
 * no payment of ours and are skipped.
 */
const STRIPE_COLUMNS = {
  id: ['balance_transaction_id', 'id'],
  category: ['reporting_category', 'type'],
  amount: ['gross', 'amount'],
  currency: ['currency'],
  created: ['created_utc', 'created (utc)'],
  source: ['source_id', 'source'],
  paymentIntent: ['payment_intent_id', 'payment intent id', 'paymentintent id'],
  paymentMetadata: ['payment_metadata[paymentId]', 'paymentId (metadata)'],
  refundMetadata: ['refund_metadata[paymentId]'],
} as const;
type StripeColumn = keyof typeof STRIPE_COLUMNS;
const REQUIRED_COLUMNS: readonly StripeColumn[] = [
  'id',
  'category',
  'amount',
  'currency',
  'created',
  'paymentMetadata',
];

const STRIPE_STATUSES: Readonly<Record<string, StatementStatus>> = {
  charge: 'succeeded',
  payment: 'succeeded',
  refund: 'refunded',
  payment_refund: 'refunded',
};
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UTC_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?$/;

/** Minor-unit exponent of an ISO-4217 currency per this runtime's ICU data: JPY 0, USD 2, KWD 3. */
const stripeColumns = (header: readonly string[]): Record<StripeColumn, number> | string => {
  const columns = columnsByName(header, STRIPE_COLUMNS, (name) => name.toLowerCase());
  return missingColumn(columns, STRIPE_COLUMNS, REQUIRED_COLUMNS) ?? columns;
};

const utcTimeMs = (text: string): number => {
  if (UTC_TIME_PATTERN.test(text)) return Date.parse(`${text.replace(' ', 'T')}Z`);
  return /(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : Number.NaN;
};

const stripeRow = (
  fields: readonly string[],
  columns: Readonly<Record<StripeColumn, number>>,
): StatementRow | null | string => {
  const value = (name: StripeColumn): string =>
    columns[name] < 0 ? '' : (fields[columns[name]] ?? '').trim();
  const status = STRIPE_STATUSES[value('category').toLowerCase()];
  if (status === undefined) return null;
  const paymentId = (value('paymentMetadata') || value('refundMetadata')).toLowerCase();
  const currency = value('currency').toUpperCase();
  if (!UUID_PATTERN.test(paymentId))
    return `metadata paymentId '${paymentId}' is not one of our payment ids`;
  if (!isCurrency(currency)) return `unknown currency '${value('currency')}'`;
  const amountMinor = decimalToMinor(value('amount').replace(/^-/, ''), minorUnitDigits(currency));
  const channelTransactionId = value('paymentIntent') || value('source') || value('id');
  const occurredMs = utcTimeMs(value('created'));
  if (amountMinor === null || amountMinor === 0)
    return `amount '${value('amount')}' is not a ${currency} amount`;
  if (channelTransactionId.length > 128) return 'transaction id is too long';
  if (Number.isNaN(occurredMs)) return `created time '${value('created')}' is not a UTC time`;
  return {
    paymentId,
    channelTransactionId,
    status,
    amountMinor,
    currency,
    occurredAt: new Date(occurredMs).toISOString(),
  };
};

/** Parses a whole Stripe balance-transaction export; the first bad line stops it. */
export const parseStripeStatement = (text: string): ParsedStatement =>
  parseCommentedTable(text, { columns: stripeColumns, row: stripeRow });
