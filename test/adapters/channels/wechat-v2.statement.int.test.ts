import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWechatV2StatementSource } from '../../../adapters/channels/wechat/wechat-v2.statement';
import { parseFlatXml, verifyWechatV2Sign } from '../../../adapters/channels/wechat/wechat-v2.xml';
import { channelOrderNoOf } from '../../../domain/payment/payment-id';
import { dayBoundsMs } from '../../../domain/reconciliation/daily-schedule';

/**
 * The WeChat Pay v2 statement source against a local stand-in for `/pay/downloadbill` that checks
 * the request's signature and serves a bill in WeChat's documented format. Not checked against
 * WeChat itself (no merchant account here).
 */
const credentials = {
  appId: 'wx2421b1c4370ec43b',
  mchId: '10000100',
  apiKey: 'k'.repeat(32),
  signType: 'HMAC-SHA256' as const,
};
const paymentId = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
const billRow = (time: string, transactionId: string) =>
  `\`${time},\`wx2421b1c4370ec43b,\`10000100,\`0,\`1000,\`${transactionId},\`${channelOrderNoOf(paymentId)},\`oUpF8u,\`NATIVE,\`SUCCESS,\`CMC,\`CNY,\`10.00,\`0.00,\`0,\`0,\`0.00,\`0.00,\`,\`,\`Plan,\`,\`0.06000,\`0.60%,\`10.00,\`0.00,\``;
const BILLS: Record<string, string> = {
  // Beijing 2025-03-01 07:59 is still UTC 2025-02-28; 08:00 is the UTC day.
  '20250301': [
    HEADER,
    billRow('2025-03-01 07:59:59', '4200000001'),
    billRow('2025-03-01 18:00:00', '4200000002'),
  ].join('\r\n'),
  '20250302': [HEADER, billRow('2025-03-02 07:00:00', '4200000003')].join('\r\n'),
};

let server: Server;
const requested: string[] = [];
let baseUrl = '';

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const parsed = parseFlatXml(body);
      const fields = parsed.ok ? parsed.fields : {};
      const signed = verifyWechatV2Sign(fields, credentials.apiKey, credentials.signType);
      const day = fields['bill_date'] ?? '';
      requested.push(`${request.url} ${day} ${fields['bill_type']} ${signed}`);
      const bill = BILLS[day];
      response.end(
        bill ??
          '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[No Bill Exist]]></return_msg></xml>',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('WeChat Pay v2 statement source (downloadbill)', () => {
  it("downloads every Beijing day a UTC day touches, signed, and keeps the day's rows", async () => {
    const source = createWechatV2StatementSource({ ...credentials, baseUrl, timeoutMs: 5000 });
    const rows = await source.statementRows(dayBoundsMs('2025-03-01', 'UTC'));
    expect(requested).toEqual([
      '/pay/downloadbill 20250301 ALL true',
      '/pay/downloadbill 20250302 ALL true',
    ]);
    expect(rows.map((row) => [row.channelTransactionId, row.occurredAt])).toEqual([
      ['4200000002', '2025-03-01T10:00:00.000Z'],
      ['4200000003', '2025-03-01T23:00:00.000Z'],
    ]);
    expect(rows[0]).toMatchObject({ paymentId, status: 'succeeded', amountMinor: 1000 });
  });

  it('reads "No Bill Exist" as an empty day, and a down channel as unavailable', async () => {
    const source = createWechatV2StatementSource({ ...credentials, baseUrl, timeoutMs: 5000 });
    expect(await source.statementRows(dayBoundsMs('2025-04-01', 'Asia/Shanghai'))).toEqual([]);
    const down = createWechatV2StatementSource({
      ...credentials,
      baseUrl: 'http://127.0.0.1:1',
      timeoutMs: 1000,
    });
    await expect(down.statementRows(dayBoundsMs('2025-04-01', 'UTC'))).rejects.toThrow(
      /downloadbill/,
    );
  });
});
