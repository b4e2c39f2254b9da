import { createVerify } from 'node:crypto';
import { createAlipayGateway } from '../../../adapters/channels/alipay/alipay.gateway';
import { alipaySignatureBase } from '../../../adapters/channels/alipay/alipay.sign';
import {
  createResilientGateway,
  type RawChannelGateway,
} from '../../../adapters/channels/resilient-gateway';
import { createStripeGateway } from '../../../adapters/channels/stripe/stripe.gateway';
import { createWechatV2Gateway } from '../../../adapters/channels/wechat/wechat-v2.gateway';
import {
  buildFlatXml,
  parseFlatXml,
  signWechatV2,
  verifyWechatV2Sign,
} from '../../../adapters/channels/wechat/wechat-v2.xml';
import { createWechatV3Gateway } from '../../../adapters/channels/wechat/wechat-v3.gateway';
import { signSha256Rsa } from '../../../adapters/channels/wechat/wechat-v3.crypto';
import type { ChannelCallRecorded } from '../../../domain/payment/channel-log.decider';
import {
  ALIPAY_APP_ID,
  ORDER_NO,
  PAYMENT_ID,
  WECHAT_V2,
  WECHAT_V3,
  rsaKeys,
} from './channel-fixtures';
import { startFakeChannelServer, type FakeChannelServer } from './fake-channel-server';

const order = {
  paymentId: PAYMENT_ID,
  merchantOrderNo: 'o-1',
  amountMinor: 1000,
  currency: 'CNY',
  subject: 'Plan',
  expiresAt: '2030-01-01T00:00:00Z',
};
const fast = {
  timeoutMs: 200,
  retryCountMax: 3,
  backoffInitialMs: 1,
  backoffMaxMs: 2,
  breakerFailureCountMax: 50,
  breakerHalfOpenAfterMs: 60_000,
};
const resilient = (raw: RawChannelGateway) => {
  const recorded: ChannelCallRecorded[] = [];
  return {
    gateway: createResilientGateway(raw, fast, async (fact) => void recorded.push(fact), Date.now),
    recorded,
  };
};

let server: FakeChannelServer;
beforeEach(async () => {
  server = await startFakeChannelServer();
});
afterEach(() => server.close());

describe('WeChat Pay v2 gateway against a fake WeChat API', () => {
  const gateway = () =>
    resilient(
      createWechatV2Gateway({
        ...WECHAT_V2,
        baseUrl: server.baseUrl,
        notifyUrl: 'https://shop.example/v1/channels/wechat/callbacks',
        clientCertificate: null,
      }),
    );
  const signedXml = (fields: Record<string, string>) =>
    buildFlatXml({ ...fields, sign: signWechatV2(fields, WECHAT_V2.apiKey, 'HMAC-SHA256') });

  it('sends a signed unifiedorder and returns the code_url of a signed answer', async () => {
    server.answer(() => ({
      status: 200,
      body: signedXml({
        return_code: 'SUCCESS',
        result_code: 'SUCCESS',
        prepay_id: 'wx201410272009395522657a690389285100',
        code_url: 'weixin://wxpay/bizpayurl?pr=abc',
      }),
    }));
    const { gateway: wechat, recorded } = gateway();
    await expect(wechat.createOrder(order)).resolves.toEqual({
      ok: true,
      value: {
        payerParameters: {
          codeUrl: 'weixin://wxpay/bizpayurl?pr=abc',
          prepayId: 'wx201410272009395522657a690389285100',
        },
      },
    });
    const sent = parseFlatXml(server.requests[0]?.body ?? '');
    expect(sent.ok && verifyWechatV2Sign(sent.fields, WECHAT_V2.apiKey, 'HMAC-SHA256')).toBe(true);
    expect(
      sent.ok && [sent.fields['out_trade_no'], sent.fields['total_fee'], sent.fields['trade_type']],
    ).toEqual([ORDER_NO, '1000', 'NATIVE']);
    expect(recorded[0]).toMatchObject({
      operation: 'create_order',
      outcome: 'succeeded',
      attemptCount: 1,
    });
  });

  it('refuses an answer whose signature does not verify, without retrying', async () => {
    server.answer(() => ({
      status: 200,
      body: buildFlatXml({
        return_code: 'SUCCESS',
        result_code: 'SUCCESS',
        code_url: 'weixin://evil',
        sign: 'A'.repeat(64),
      }),
    }));
    await expect(gateway().gateway.createOrder(order)).resolves.toMatchObject({
      ok: false,
      kind: 'permanent',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('retries HTTP 503 and SYSTEMERROR as transient, three times', async () => {
    server.answer(() =>
      server.requests.length % 2 === 0
        ? { status: 503, body: '' }
        : {
            status: 200,
            body: signedXml({
              return_code: 'SUCCESS',
              result_code: 'FAIL',
              err_code: 'SYSTEMERROR',
            }),
          },
    );
    const { gateway: wechat, recorded } = gateway();
    await expect(wechat.closeOrder(PAYMENT_ID)).resolves.toMatchObject({
      ok: false,
      kind: 'transient',
    });
    expect(server.requests).toHaveLength(4);
    expect(recorded[0]).toMatchObject({
      operation: 'close_order',
      outcome: 'transient',
      attemptCount: 4,
    });
  });

  it('refunds with the order total it queried first', async () => {
    server.answer((request) =>
      request.url.endsWith('/pay/orderquery')
        ? {
            status: 200,
            body: signedXml({
              return_code: 'SUCCESS',
              result_code: 'SUCCESS',
              trade_state: 'SUCCESS',
              out_trade_no: ORDER_NO,
              transaction_id: 'tx-1',
              total_fee: '1000',
            }),
          }
        : {
            status: 200,
            body: signedXml({
              return_code: 'SUCCESS',
              result_code: 'SUCCESS',
              refund_id: 'wx-refund-1',
            }),
          },
    );
    const refund = {
      paymentId: PAYMENT_ID,
      refundId: 'r-1',
      amountMinor: 400,
      currency: 'CNY',
      channelTransactionId: 'tx-1',
    };
    await expect(gateway().gateway.refund(refund)).resolves.toEqual({
      ok: true,
      value: { status: 'accepted', channelRefundId: 'wx-refund-1' },
    });
    const sent = parseFlatXml(server.requests[1]?.body ?? '');
    expect(
      sent.ok && [sent.fields['total_fee'], sent.fields['refund_fee'], server.requests[1]?.url],
    ).toEqual(['1000', '400', '/secapi/pay/refund']);
  });

  it('times out a channel that never answers', async () => {
    server.answer(() => 'hang');
    await expect(gateway().gateway.queryOrder(PAYMENT_ID)).resolves.toEqual({
      ok: false,
      kind: 'transient',
      reason: 'timeout',
    });
    expect(server.requests).toHaveLength(4);
  });
});

describe('WeChat Pay v3 gateway against a fake WeChat API', () => {
  const merchant = rsaKeys();
  const platform = rsaKeys();
  const signedAnswer = (status: number, body: string) => {
    const timestamp = Math.floor(Date.now() / 1000).toString();
    const signature = signSha256Rsa(platform.privateKey, `${timestamp}\nanswer-nonce\n${body}\n`);
    return {
      status,
      body,
      headers: {
        'wechatpay-timestamp': timestamp,
        'wechatpay-nonce': 'answer-nonce',
        'wechatpay-signature': signature,
        'wechatpay-serial': WECHAT_V3.serial,
      },
    };
  };
  const gateway = () =>
    resilient(
      createWechatV3Gateway({
        baseUrl: server.baseUrl,
        appId: 'wxd678efh567hg6787',
        mchId: WECHAT_V3.mchId,
        notifyUrl: 'https://shop.example/n',
        merchantPrivateKey: merchant.privateKey,
        merchantSerialNo: 'MERCHANT-SERIAL',
        platformKeys: new Map([[WECHAT_V3.serial, platform.publicKey]]),
        nowMs: Date.now,
      }),
    );

  it('signs its request with the merchant key and believes only signed answers', async () => {
    server.answer(() => signedAnswer(200, '{"code_url":"weixin://wxpay/bizpayurl?pr=v3"}'));
    await expect(gateway().gateway.createOrder(order)).resolves.toEqual({
      ok: true,
      value: { payerParameters: { codeUrl: 'weixin://wxpay/bizpayurl?pr=v3' } },
    });
    const request = server.requests[0];
    const fields = Object.fromEntries(
      [...(request?.headers.authorization ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((match) => [
        match[1],
        match[2],
      ]),
    );
    const message = `POST\n/v3/pay/transactions/native\n${fields['timestamp']}\n${fields['nonce_str']}\n${request?.body}\n`;
    expect(
      createVerify('RSA-SHA256')
        .update(message)
        .verify(merchant.publicKey, fields['signature'] ?? '', 'base64'),
    ).toBe(true);
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({
      out_trade_no: ORDER_NO,
      amount: { total: 1000, currency: 'CNY' },
    });
  });

  it('refuses an unsigned answer and retries a 500', async () => {
    server.answer(() => ({ status: 200, body: '{"code_url":"weixin://evil"}' }));
    await expect(gateway().gateway.createOrder(order)).resolves.toMatchObject({
      ok: false,
      kind: 'permanent',
    });
    server.answer(() => ({ status: 500, body: '' }));
    await expect(gateway().gateway.createOrder(order)).resolves.toMatchObject({
      ok: false,
      kind: 'transient',
    });
  });

  it('maps a queried order', async () => {
    server.answer(() =>
      signedAnswer(
        200,
        JSON.stringify({
          trade_state: 'SUCCESS',
          transaction_id: 'tx-3',
          amount: { total: 1000, currency: 'CNY' },
        }),
      ),
    );
    await expect(gateway().gateway.queryOrder(PAYMENT_ID)).resolves.toEqual({
      ok: true,
      value: {
        status: 'succeeded',
        channelTransactionId: 'tx-3',
        amountMinor: 1000,
        currency: 'CNY',
      },
    });
  });
});

describe('Alipay gateway against a fake Alipay gateway', () => {
  const appKeys = rsaKeys();
  const alipayKeys = rsaKeys();
  const gateway = () =>
    resilient(
      createAlipayGateway({
        gatewayUrl: `${server.baseUrl}/gateway.do`,
        appId: ALIPAY_APP_ID,
        notifyUrl: 'https://shop.example/n',
        appPrivateKey: appKeys.privateKey,
        alipayPublicKey: alipayKeys.publicKey,
        nowMs: Date.now,
      }),
    );
  const signedAnswer = (method: string, node: string) => {
    const sign = signSha256Rsa(alipayKeys.privateKey, node).replace(/\n$/, '');
    return {
      status: 200,
      body: `{"${method.replace(/\./g, '_')}_response":${node},"sign":"${sign}"}`,
    };
  };

  it('signs the request (RSA2) and verifies the answer node', async () => {
    server.answer(() =>
      signedAnswer(
        'alipay.trade.precreate',
        '{"code":"10000","msg":"Success","out_trade_no":"x","qr_code":"https://qr.alipay.com/bax03431"}',
      ),
    );
    await expect(gateway().gateway.createOrder(order)).resolves.toEqual({
      ok: true,
      value: { payerParameters: { qrCode: 'https://qr.alipay.com/bax03431' } },
    });
    const params = new Map(new URLSearchParams(server.requests[0]?.body ?? ''));
    const signature = Buffer.from(params.get('sign') ?? '', 'base64');
    expect(
      createVerify('RSA-SHA256')
        .update(alipaySignatureBase(params))
        .verify(appKeys.publicKey, signature),
    ).toBe(true);
    expect(JSON.parse(params.get('biz_content') ?? '{}')).toMatchObject({
      out_trade_no: ORDER_NO,
      total_amount: '10.00',
    });
  });

  it('treats business errors as permanent, 20000 as transient, forged answers as permanent', async () => {
    server.answer(() =>
      signedAnswer(
        'alipay.trade.close',
        '{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST"}',
      ),
    );
    await expect(gateway().gateway.closeOrder(PAYMENT_ID)).resolves.toMatchObject({
      ok: false,
      kind: 'permanent',
    });
    server.answer(() =>
      signedAnswer('alipay.trade.close', '{"code":"20000","msg":"Service Currently Unavailable"}'),
    );
    await expect(gateway().gateway.closeOrder(PAYMENT_ID)).resolves.toMatchObject({
      ok: false,
      kind: 'transient',
    });
    server.answer(() => ({
      status: 200,
      body: '{"alipay_trade_close_response":{"code":"10000"},"sign":"AAAA"}',
    }));
    await expect(gateway().gateway.closeOrder(PAYMENT_ID)).resolves.toMatchObject({
      ok: false,
      kind: 'permanent',
      reason: 'answer signature does not verify',
    });
  });
});

describe('Stripe-style gateway against a fake Stripe API', () => {
  const gateway = () =>
    resilient(createStripeGateway({ baseUrl: server.baseUrl, secretKey: 'sk_test_123' }));

  it('creates a payment intent with the secret key and an idempotency key', async () => {
    server.answer(() => ({ status: 200, body: '{"id":"pi_1","client_secret":"pi_1_secret_2"}' }));
    await expect(gateway().gateway.createOrder({ ...order, currency: 'EUR' })).resolves.toEqual({
      ok: true,
      value: { payerParameters: { clientSecret: 'pi_1_secret_2', paymentIntentId: 'pi_1' } },
    });
    const request = server.requests[0];
    expect([request?.headers.authorization, request?.headers['idempotency-key']]).toEqual([
      'Bearer sk_test_123',
      `create-${PAYMENT_ID}`,
    ]);
    expect(Object.fromEntries(new URLSearchParams(request?.body ?? ''))).toMatchObject({
      amount: '1000',
      currency: 'eur',
      'metadata[paymentId]': PAYMENT_ID,
    });
  });

  it('finds the intent by metadata for a query, retries 429 and does not retry 402', async () => {
    server.answer(() => ({
      status: 200,
      body: '{"data":[{"id":"pi_1","status":"succeeded","amount_received":1000,"currency":"eur"}]}',
    }));
    await expect(gateway().gateway.queryOrder(PAYMENT_ID)).resolves.toEqual({
      ok: true,
      value: {
        status: 'succeeded',
        channelTransactionId: 'pi_1',
        amountMinor: 1000,
        currency: 'EUR',
      },
    });
    server.answer(() => ({ status: 429, body: '{}' }));
    const limited = gateway();
    await expect(
      limited.gateway.refund({
        paymentId: PAYMENT_ID,
        refundId: 'r',
        amountMinor: 1,
        currency: 'EUR',
        channelTransactionId: 'pi_1',
      }),
    ).resolves.toMatchObject({ kind: 'transient' });
    expect(limited.recorded[0]?.attemptCount).toBe(4);
    server.answer(() => ({ status: 402, body: '{"error":{"message":"card declined"}}' }));
    await expect(
      gateway().gateway.refund({
        paymentId: PAYMENT_ID,
        refundId: 'r',
        amountMinor: 1,
        currency: 'EUR',
        channelTransactionId: 'pi_1',
      }),
    ).resolves.toEqual({ ok: false, kind: 'permanent', reason: 'HTTP 402: card declined' });
  });
});
