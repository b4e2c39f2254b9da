import { minorUnitDigits } from '../../../domain/money';
import { parseStripeStatement } from '../../../domain/reconciliation/stripe-statement';
import { parseStatementCsv } from '../../../domain/reconciliation/statement-csv';

const usd = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const jpy = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a6c';
const kwd = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a7d';

/** The itemized balance report (balance_change_from_activity.itemized.3) with the columns we ask for. */
const REPORT_HEADER =
  'balance_transaction_id,created_utc,created,available_on_utc,currency,gross,fee,net,reporting_category,source_id,description,customer_facing_amount,customer_facing_currency,payment_intent_id,charge_id,payment_metadata[paymentId],refund_metadata[paymentId],refund_metadata[refundId]';
const report = [
  REPORT_HEADER,
  `txn_3,2025-03-02 08:00:00,2025-03-02 09:00:00,2025-03-09 00:00:00,usd,-4.00,0.00,-4.00,refund,re_3,REFUND FOR CHARGE (Plan),4.00,usd,pi_1,ch_1,${usd},${usd},r-1`,
  'txn_2,2025-03-01 20:00:00,2025-03-01 21:00:00,2025-03-08 00:00:00,usd,-100.00,0.00,-100.00,payout,po_1,STRIPE PAYOUT,,,,,,,',
  `txn_1,2025-03-01 10:00:00,2025-03-01 11:00:00,2025-03-08 00:00:00,usd,19.99,0.88,19.11,charge,ch_1,"Plan, monthly",19.99,usd,pi_1,ch_1,${usd},,`,
  `txn_4,2025-03-01 10:05:00,2025-03-01 19:05:00,2025-03-08 00:00:00,jpy,1000,36,964,charge,ch_2,Plan,1000,jpy,pi_2,ch_2,${jpy},,`,
  `txn_5,2025-03-01 10:06:00,2025-03-01 13:06:00,2025-03-08 00:00:00,kwd,1.234,0.050,1.184,charge,ch_5,Plan,1.234,kwd,pi_5,ch_5,${kwd},,`,
].join('\n');

describe('Stripe balance-transaction export', () => {
  it('converts major units exactly per currency exponent (USD 2, JPY 0, KWD 3), skips payouts, maps metadata paymentId', () => {
    expect(parseStatementCsv(report, 'stripe')).toEqual({
      ok: true,
      rows: [
        {
          paymentId: usd,
          channelTransactionId: 'pi_1',
          status: 'succeeded',
          amountMinor: 1999,
          currency: 'USD',
          occurredAt: '2025-03-01T10:00:00.000Z',
        },
        {
          paymentId: jpy,
          channelTransactionId: 'pi_2',
          status: 'succeeded',
          amountMinor: 1000,
          currency: 'JPY',
          occurredAt: '2025-03-01T10:05:00.000Z',
        },
        {
          paymentId: kwd,
          channelTransactionId: 'pi_5',
          status: 'succeeded',
          amountMinor: 1234,
          currency: 'KWD',
          occurredAt: '2025-03-01T10:06:00.000Z',
        },
        {
          paymentId: usd,
          channelTransactionId: 'pi_1',
          status: 'refunded',
          amountMinor: 400,
          currency: 'USD',
          occurredAt: '2025-03-02T08:00:00.000Z',
        },
      ],
    });
    expect([minorUnitDigits('JPY'), minorUnitDigits('EUR'), minorUnitDigits('KWD')]).toEqual([
      0, 2, 3,
    ]);
  });

  it("reads the Dashboard's Title Case export with a metadata column", () => {
    const text = [
      'id,Type,Source,Amount,Fee,Net,Currency,Created (UTC),Available On (UTC),Status,Description,paymentId (metadata)',
      `txn_9,payment_refund,pyr_9,-2500,0,-2500,jpy,2025-03-01T00:00:00Z,2025-03-08 00:00,available,Refund,${jpy}`,
    ].join('\n');
    expect(parseStripeStatement(text)).toEqual({
      ok: true,
      rows: [
        {
          paymentId: jpy,
          channelTransactionId: 'pyr_9',
          status: 'refunded',
          amountMinor: 2500,
          currency: 'JPY',
          occurredAt: '2025-03-01T00:00:00.000Z',
        },
      ],
    });
  });

  it('names a missing required column', () => {
    expect(parseStripeStatement(REPORT_HEADER.replace(',gross', ''))).toEqual({
      ok: false,
      line: 1,
      reason: 'missing column gross or amount',
    });
    expect(
      parseStripeStatement(REPORT_HEADER.replace(',payment_metadata[paymentId]', '')),
    ).toMatchObject({
      ok: false,
      line: 1,
      reason: expect.stringContaining('payment_metadata[paymentId]'),
    });
  });

  it.each([
    ['a yen amount with decimals', ',jpy,1000,36,964,', ',jpy,1000.5,36,964,', 'amount'],
    ['a cent fraction', ',usd,19.99,', ',usd,19.999,', 'amount'],
    ['a thousands separator', ',usd,19.99,', ',usd,"1,019.99",', 'amount'],
    ['an unknown currency', ',usd,19.99,', ',usx,19.99,', 'currency'],
    ['a charge without our paymentId', `,${usd},,`, ',not-ours,,', 'paymentId'],
    [
      'a local time',
      '2025-03-01 10:00:00,2025-03-01 11:00:00',
      '2025-03-01 10:00:00+0100,2025-03-01 11:00:00',
      'created',
    ],
  ])('refuses %s and names its line', (_name, from, to, word) => {
    const lines = report.split('\n');
    const index = lines.findIndex((line) => line.includes(from) && line.includes('charge'));
    lines[index] = (lines[index] ?? '').replace(from, to);
    const parsed = parseStripeStatement(lines.join('\n'));
    expect(parsed).toMatchObject({ ok: false, line: index + 1 });
    expect(parsed.ok ? '' : parsed.reason).toContain(word);
  });
});
