import { parseAlipayStatement } from '../../../domain/reconciliation/alipay-statement';
import { parseStatementCsv } from '../../../domain/reconciliation/statement-csv';
import { channelOrderNoOf } from '../../../domain/payment/payment-id';

const paid = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const refunded = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a6c';
const HEADER =
  '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注';

/** A row as Alipay writes it: ids followed by a tab, empty store and coupon columns. */
const row = (
  tradeNo: string,
  paymentId: string,
  type: string,
  created: string,
  finished: string,
  amount: string,
  received = amount,
  requestNo = '',
) =>
  [
    `${tradeNo}\t`,
    `${channelOrderNoOf(paymentId)}\t`,
    type,
    'Plan',
    created,
    finished,
    '',
    '',
    '',
    '',
    'buy***@example.com',
    amount,
    received,
    '0.00',
    '0.00',
    '0.00',
    '0.00',
    '0.00',
    '',
    '0.00',
    '0.00',
    requestNo === '' ? '' : `${requestNo}\t`,
    '-0.06',
    '0.00',
    '',
  ].join(',');

const bill = (rows: readonly string[], header = HEADER): string =>
  [
    '#支付宝业务明细查询',
    '#账号：[20881234567890120156]',
    '#起始日期：[2025年03月01日 00:00:00]   终止日期：[2025年03月02日 00:00:00]',
    '#-----------------------------------------业务明细列表----------------------------------------',
    header,
    ...rows,
    '#-----------------------------------------业务明细列表结束------------------------------------',
    `#交易合计：${rows.length}笔，退款合计：0笔`,
    '#导出时间：[2025年03月02日 10:23:11]',
  ].join('\r\n');

describe('Alipay trade bill (业务明细)', () => {
  it('reads trades and refunds: yuan to fen exactly, Beijing time to UTC, comment lines skipped', () => {
    const text = bill([
      row(
        '2025030122001400001',
        refunded,
        '退款',
        '2025-03-01 09:00:00',
        '2025-03-01 12:30:00',
        '-0.07',
        '-0.07',
        'refund-1',
      ),
      row(
        '2025030122001400000',
        paid,
        '交易',
        '2025-03-01 08:59:58',
        '2025-03-01 09:00:01',
        '88.88',
      ),
      row('2025030122001400001', refunded, '交易', '2025-03-01 07:00:00', '', '0.07'),
    ]);
    const parsed = parseStatementCsv(text, 'alipay');
    expect(parsed).toEqual({
      ok: true,
      rows: [
        {
          paymentId: paid,
          channelTransactionId: '2025030122001400000',
          status: 'succeeded',
          amountMinor: 8888,
          currency: 'CNY',
          occurredAt: '2025-03-01T01:00:01.000Z',
        },
        {
          paymentId: refunded,
          channelTransactionId: '2025030122001400001',
          status: 'succeeded',
          amountMinor: 7,
          currency: 'CNY',
          occurredAt: '2025-02-28T23:00:00.000Z',
        },
        {
          paymentId: refunded,
          channelTransactionId: '2025030122001400001',
          status: 'refunded',
          amountMinor: 7,
          currency: 'CNY',
          occurredAt: '2025-03-01T04:30:00.000Z',
        },
      ],
    });
  });

  it('finds columns by name in any order and with ASCII parentheses', () => {
    const text = [
      '业务类型,订单金额(元),完成时间,创建时间,商户订单号,支付宝交易号',
      `交易,1.5,2025-03-01 00:00:00,2025-03-01 00:00:00,${channelOrderNoOf(paid)},2025030122001400000`,
    ].join('\n');
    expect(parseAlipayStatement(text)).toMatchObject({
      ok: true,
      rows: [{ paymentId: paid, amountMinor: 150, occurredAt: '2025-02-28T16:00:00.000Z' }],
    });
  });

  it('names a missing required column on the header line', () => {
    expect(parseAlipayStatement(bill([], HEADER.replace('商户订单号,', '')))).toEqual({
      ok: false,
      line: 5,
      reason: 'missing column 商户订单号',
    });
    expect(parseAlipayStatement('#only comments\n')).toMatchObject({
      ok: false,
      reason: 'no header row',
    });
  });

  it.each([
    [
      'a malformed amount',
      row('t1', paid, '交易', '2025-03-01 09:00:00', '2025-03-01 09:00:01', '1.005'),
      '订单金额',
    ],
    [
      'a float-looking amount',
      row('t1', paid, '交易', '2025-03-01 09:00:00', '2025-03-01 09:00:01', '1e3'),
      '订单金额',
    ],
    [
      'a zero amount',
      row('t1', paid, '交易', '2025-03-01 09:00:00', '2025-03-01 09:00:01', '0.00'),
      '订单金额',
    ],
    [
      'an unknown business type',
      row('t1', paid, '冻结', '2025-03-01 09:00:00', '2025-03-01 09:00:01', '1.00'),
      '业务类型',
    ],
    [
      'a foreign order number',
      row('t1', paid, '交易', '2025-03-01 09:00:00', '2025-03-01 09:00:01', '1.00').replace(
        channelOrderNoOf(paid),
        'SHOP-42',
      ),
      '商户订单号',
    ],
    [
      'a bad time',
      row('t1', paid, '交易', '2025-03-01 09:00:00', '2025/03/01 09:00', '1.00'),
      '完成时间',
    ],
  ])('refuses %s and names its line', (_name, badRow, column) => {
    const text = bill([
      row('t0', refunded, '交易', '2025-03-01 09:00:00', '2025-03-01 09:00:01', '1.00'),
      badRow,
    ]);
    const parsed = parseAlipayStatement(text);
    expect(parsed).toMatchObject({ ok: false, line: 7 });
    expect(parsed.ok ? '' : parsed.reason).toContain(column);
  });
});
