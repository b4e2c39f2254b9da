import { channelOrderNoOf } from '../../domain/payment/payment-id';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';

/**
 * The Alipay and Stripe statement formats through POST /v1/reconciliations. The payments go
 * through the sandbox channel; the statement is rewritten in the other channel's format and
 * the request names that format.
 */
const nowMs = Date.parse('2025-03-01T10:00:00Z');
let app: LedgerApp;
let orderCount = 0;

beforeAll(async () => {
  app = await createLedgerApp({ nowMs: () => nowMs });
  await app.post('/v1/accounts', { accountId: 'shop-cny', currency: 'CNY' }, app.keys.merchant);
  await app.post('/v1/accounts', { accountId: 'shop-jpy', currency: 'JPY' }, app.keys.merchant);
});

const paidPayments = async (currency: string, amountsMinor: readonly number[]) => {
  const paymentIds: string[] = [];
  for (const amountMinor of amountsMinor) {
    orderCount += 1;
    const body = {
      merchantOrderNo: `format-order-${orderCount}`,
      amountMinor,
      currency,
      channel: 'sandbox',
      subject: 'Plan',
      creditAccountId: `shop-${currency.toLowerCase()}`,
    };
    const response = await app.post('/v1/payments', body, app.keys.merchant);
    expect(response.status).toBe(201);
    const paymentId = (response.body.data as { payment: { paymentId: string } }).payment.paymentId;
    app.sandbox.pay(paymentId);
    paymentIds.push(paymentId);
  }
  await app.sandbox.flush();
  const rows = app.sandbox.statementRows();
  return paymentIds.map(
    (paymentId) =>
      rows.find((row) => row.paymentId === paymentId) ?? {
        paymentId,
        channelTransactionId: 'missing',
      },
  );
};

const reconcileWith = async (format: string, statementCsv: string) => {
  const response = await app.post(
    '/v1/reconciliations',
    { channel: 'sandbox', format, statementCsv },
    app.keys.admin,
  );
  expect(response.status).toBe(200);
  return (
    response.body.data.report as {
      discrepancies: { kind: string; paymentId: string; channelAmountMinor?: number }[];
    }
  ).discrepancies;
};

describe('POST /v1/reconciliations with channel formats', () => {
  it('finds a planted amount mismatch in an Alipay trade bill', async () => {
    const [ok, planted] = await paidPayments('CNY', [8888, 1000]);
    const header =
      '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,退款批次号/请求号,服务费（元）,分润（元）,备注';
    const row = (tx: string, paymentId: string, yuan: string) =>
      `${tx}\t,${channelOrderNoOf(paymentId)}\t,交易,Plan,2025-03-01 18:00:00,2025-03-01 18:00:01,,,,,buy***@example.com,${yuan},${yuan},,-0.06,0.00,`;
    const bill = [
      '#支付宝业务明细查询',
      header,
      row(ok?.channelTransactionId ?? '', ok?.paymentId ?? '', '88.88'),
      row(planted?.channelTransactionId ?? '', planted?.paymentId ?? '', '10.01'),
      '#交易合计：2笔，退款合计：0笔',
    ].join('\r\n');
    const discrepancies = await reconcileWith('alipay', bill);
    expect(
      discrepancies.filter(
        (item) => item.paymentId === ok?.paymentId || item.paymentId === planted?.paymentId,
      ),
    ).toEqual([
      expect.objectContaining({
        kind: 'amount_mismatch',
        paymentId: planted?.paymentId,
        channelAmountMinor: 1001,
      }),
    ]);
  });

  it('finds a planted charge the ledger never credited in a Stripe export, in yen', async () => {
    const [ok] = await paidPayments('JPY', [1000]);
    const unknown = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const report = [
      'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,payment_intent_id,payment_metadata[paymentId]',
      `txn_1,2025-03-01 10:00:00,jpy,1000,36,964,charge,ch_1,${ok?.channelTransactionId ?? ''},${ok?.paymentId ?? ''}`,
      `txn_2,2025-03-01 10:01:00,jpy,500,18,482,charge,ch_2,pi_planted,${unknown}`,
    ].join('\n');
    const discrepancies = await reconcileWith('stripe', report);
    expect(discrepancies).toContainEqual(
      expect.objectContaining({
        kind: 'channel_only',
        paymentId: unknown,
        amountMinor: 500,
        currency: 'JPY',
      }),
    );
    expect(discrepancies.some((item) => item.paymentId === ok?.paymentId)).toBe(false);
  });

  it('refuses a Stripe export missing a column with 422 naming line 1', async () => {
    const response = await app.post(
      '/v1/reconciliations',
      { channel: 'stripe', statementCsv: 'id,Type,Amount,Currency,Created (UTC)\n' },
      app.keys.admin,
    );
    expect([response.status, response.body.data]).toEqual([422, { line: 1 }]);
    expect(response.body.msg).toBe(
      'statement line 1: missing column payment_metadata[paymentId] or paymentId (metadata)',
    );
  });
});
