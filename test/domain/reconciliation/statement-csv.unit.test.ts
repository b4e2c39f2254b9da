import {
  formatSandboxStatement,
  parseStatementCsv,
  splitCsvLine,
} from '../../../domain/reconciliation/statement-csv';
import { decimalToMinor, minorToDecimal } from '../../../domain/payment/decimal-amount';
import { channelOrderNoOf, paymentIdFromOrderNo } from '../../../domain/payment/payment-id';

const paymentId = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

describe('statement CSV', () => {
  it('round-trips the sandbox format', () => {
    const rows = [
      {
        paymentId,
        channelTransactionId: 'tx,"1"',
        status: 'succeeded' as const,
        amountMinor: 1999,
        currency: 'EUR',
        occurredAt: '2025-03-01T10:00:00.000Z',
      },
    ];
    expect(parseStatementCsv(formatSandboxStatement(rows), 'sandbox')).toEqual({ ok: true, rows });
  });

  it.each([
    ['a wrong header', 'a,b\n', 1],
    [
      'a bad amount',
      'payment_id,channel_transaction_id,status,amount_minor,currency,occurred_at\n' +
        `${paymentId},tx,succeeded,1.5,EUR,2025-03-01T10:00:00Z\n`,
      2,
    ],
    [
      'an unknown status',
      'payment_id,channel_transaction_id,status,amount_minor,currency,occurred_at\n' +
        `${paymentId},tx,paid,1,EUR,2025-03-01T10:00:00Z\n`,
      2,
    ],
    [
      'an unterminated quote',
      'payment_id,channel_transaction_id,status,amount_minor,currency,occurred_at\n' +
        `${paymentId},"tx,succeeded,1,EUR,x\n`,
      2,
    ],
  ])('refuses %s and names the line', (_name, text, line) => {
    expect(parseStatementCsv(text, 'sandbox')).toMatchObject({ ok: false, line });
  });

  it("parses WeChat Pay's trade bill: backticks, yuan, Beijing time, and stops at the summary", () => {
    const bill = [
      '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
      `\`2025-03-01 18:00:00,\`wx2421b1c4370ec43b,\`10000100,\`0,\`1000,\`4200000001201902221234567890,\`${channelOrderNoOf(paymentId)},\`oUpF8uN95-Ptaags6E_roPHg7AG0,\`NATIVE,\`SUCCESS,\`CMC,\`CNY,\`10.00,\`0.00,\`0,\`0,\`0.00,\`0.00,\`,\`,\`Plan,\`,\`0.06000,\`0.60%,\`10.00,\`0.00,\``,
      '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
      '`1,`10.00,`0.00,`0.00,`0.06000,`10.00,`0.00',
    ].join('\r\n');
    expect(parseStatementCsv(bill, 'wechat')).toEqual({
      ok: true,
      rows: [
        {
          paymentId,
          channelTransactionId: '4200000001201902221234567890',
          status: 'succeeded',
          amountMinor: 1000,
          currency: 'CNY',
          occurredAt: '2025-03-01T10:00:00.000Z',
        },
      ],
    });
    expect(parseStatementCsv('交易时间,商户订单号\n', 'wechat')).toMatchObject({
      ok: false,
      line: 1,
    });
  });

  it('splits quoted fields', () => {
    expect(splitCsvLine('a,"b,c","d""e",')).toEqual(['a', 'b,c', 'd"e', '']);
  });
});

describe('amounts and order numbers at the channel edge', () => {
  it('converts decimal text without floats', () => {
    expect([
      decimalToMinor('0.07', 2),
      decimalToMinor('88.8', 2),
      decimalToMinor('100', 0),
      decimalToMinor('1.005', 2),
      decimalToMinor('-1', 2),
      decimalToMinor('01.00', 2),
    ]).toEqual([7, 8880, 100, null, null, null]);
    expect([minorToDecimal(7, 2), minorToDecimal(8888, 2), minorToDecimal(5, 0)]).toEqual([
      '0.07',
      '88.88',
      '5',
    ]);
  });

  it('maps payment ids to 32-character order numbers and back', () => {
    expect(paymentIdFromOrderNo(channelOrderNoOf(paymentId))).toBe(paymentId);
    expect(paymentIdFromOrderNo(paymentId.toUpperCase())).toBe(paymentId);
    expect([paymentIdFromOrderNo('order-1'), paymentIdFromOrderNo('g'.repeat(32))]).toEqual([
      null,
      null,
    ]);
  });
});
