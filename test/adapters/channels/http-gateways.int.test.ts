import { createSign, type KeyObject } from 'node:crypto';
import { Formatter, Hash, Rsa, Transformer } from 'wechatpay-axios-plugin';
import { createAlipayGateway } from '../../../adapters/channels/alipay/alipay.gateway';
import {
  createResilientGateway,
  type RawChannelGateway,
} from '../../../adapters/channels/resilient-gateway';
import { createStripeGateway } from '../../../adapters/channels/stripe/stripe.gateway';
import { createWechatV2Gateway } from '../../../adapters/channels/wechat/wechat-v2.gateway';
import { createWechatV3Gateway } from '../../../adapters/channels/wechat/wechat-v3.gateway';
import type { ChannelCallRecorded } from '../../../domain/payment/channel-log.decider';
import {
  ALIPAY_APP_ID,
  ORDER_NO,
  PAYMENT_ID,
  WECHAT_V2,
  WECHAT_V3,
  alipaySdkOf,
  rsaKeys,
} from './channel-fixtures';
import {
  startFakeChannelServer,
  type FakeChannelServer,
  type FakeRequest,
} from './fake-channel-server';

/**
 * The fake channels check what we send with the channels' SDKs (wechatpay-axios-plugin,
 * alipay-sdk) and sign their answers with them or with node:crypto, never with the project's code.
 */

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
    Transformer.toXml({ ...fields, sign: Hash.sign('HMAC-SHA256', fields, WECHAT_V2.apiKey) });
  /** The fields of a request, when its sign verifies under wechatpay-axios-plugin's Hash.sign. */
  const sdkVerified = (request: FakeRequest | undefined): Record<string, string> => {
    const fields = Transformer.toObject(request?.body ?? '') as Record<string, string>;
    expect(fields['sign']).toBe(Hash.sign('HMAC-SHA256', fields, WECHAT_V2.apiKey));
    return fields;
  };

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
    const sent = sdkVerified(server.requests[0]);
    expect([
      sent['out_trade_no'],
      sent['total_fee'],
      sent['trade_type'],
      sent['sign_type'],
    ]).toEqual([ORDER_NO, '1000', 'NATIVE', 'HMAC-SHA256']);
    expect(recorded[0]).toMatchObject({
      operation: 'create_order',
      outcome: 'succeeded',
      attemptCount: 1,
    });
  });

  it('refuses an answer whose signature does not verify, without retrying', async () => {
    server.answer(() => ({
      status: 200,
      body: Transformer.toXml({
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
    for (const request of server.requests) sdkVerified(request);
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
    sdkVerified(server.requests[0]);
    const sent = sdkVerified(server.requests[1]);
    expect([sent['total_fee'], sent['refund_fee'], server.requests[1]?.url]).toEqual([
      '1000',
      '400',
      '/secapi/pay/refund',
    ]);
  });

  it('queries a refund by out_refund_no (refundquery): succeeded, processing, closed, unknown', async () => {
    const answers: Record<string, string>[] = [
      {
        refund_count: '2',
        out_refund_no_0: 'r-0',
        refund_status_0: 'SUCCESS',
        out_refund_no_1: 'r-1',
        refund_status_1: 'SUCCESS',
        refund_id_1: 'wx-refund-1',
      },
      { refund_count: '1', out_refund_no_0: 'r-1', refund_status_0: 'PROCESSING' },
      { refund_count: '1', out_refund_no_0: 'r-1', refund_status_0: 'REFUNDCLOSE' },
    ];
    server.answer(() => {
      const fields = answers[server.requests.length - 1];
      return {
        status: 200,
        body: signedXml(
          fields === undefined
            ? { return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'REFUNDNOTEXIST' }
            : { return_code: 'SUCCESS', result_code: 'SUCCESS', ...fields },
        ),
      };
    });
    const { gateway: wechat, recorded } = gateway();
    const query = { paymentId: PAYMENT_ID, refundId: 'r-1', channelTransactionId: 'tx-1' };
    expect([
      await wechat.queryRefund(query),
      await wechat.queryRefund(query),
      await wechat.queryRefund(query),
      await wechat.queryRefund(query),
    ]).toEqual([
      { ok: true, value: { status: 'succeeded', channelRefundId: 'wx-refund-1' } },
      { ok: true, value: { status: 'pending' } },
      { ok: true, value: { status: 'failed', failureReason: 'refund_status REFUNDCLOSE' } },
      { ok: true, value: { status: 'unknown' } },
    ]);
    for (const request of server.requests) {
      expect(request.url).toBe('/pay/refundquery');
      expect(sdkVerified(request)['out_refund_no']).toBe('r-1');
    }
    expect(recorded[0]).toMatchObject({ operation: 'query_refund', refundId: 'r-1' });
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
    const signature = Rsa.sign(
      Formatter.response(timestamp, 'answer-nonce', body),
      platform.privateKey,
    );
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
  /** wechatpay-axios-plugin's Formatter.request and Rsa.verify over what the fake received. */
  const expectSdkVerified = (request: FakeRequest | undefined) => {
    const authorization = request?.headers.authorization ?? '';
    const fields = Object.fromEntries(
      [...authorization.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]),
    );
    expect(authorization.startsWith('WECHATPAY2-SHA256-RSA2048 ')).toBe(true);
    expect([fields['mchid'], fields['serial_no']]).toEqual([WECHAT_V3.mchId, 'MERCHANT-SERIAL']);
    const message = Formatter.request(
      request?.method ?? '',
      request?.url ?? '',
      fields['timestamp'] ?? '',
      fields['nonce_str'] ?? '',
      request?.method === 'GET' ? '' : (request?.body ?? ''),
    );
    expect(Rsa.verify(message, fields['signature'] ?? '', merchant.publicKey)).toBe(true);
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
    expectSdkVerified(request);
    expect(request?.url).toBe('/v3/pay/transactions/native');
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
          success_time: '2025-03-01T18:00:00+08:00',
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
        paidAt: '2025-03-01T10:00:00.000Z',
      },
    });
    expect(server.requests[0]?.method).toBe('GET');
    expectSdkVerified(server.requests[0]);
  });
});

describe('WeChat Pay v3 refund query against a fake WeChat API', () => {
  const merchant = rsaKeys();
  const platform = rsaKeys();
  const signedAnswer = (status: number, body: string) => {
    const timestamp = Math.floor(Date.now() / 1000).toString();
    const signature = Rsa.sign(
      Formatter.response(timestamp, 'answer-nonce', body),
      platform.privateKey,
    );
    const headers = {
      'wechatpay-timestamp': timestamp,
      'wechatpay-nonce': 'answer-nonce',
      'wechatpay-signature': signature,
      'wechatpay-serial': WECHAT_V3.serial,
    };
    return { status, body, headers };
  };

  it('GETs /v3/refund/domestic/refunds/{out_refund_no}, signed; maps each status and 404', async () => {
    const answers = [
      signedAnswer(200, '{"refund_id":"50000000382019052709732678859","status":"SUCCESS"}'),
      signedAnswer(200, '{"status":"PROCESSING"}'),
      signedAnswer(200, '{"status":"ABNORMAL"}'),
      signedAnswer(404, '{"code":"RESOURCE_NOT_EXISTS","message":"退款单不存在"}'),
    ];
    server.answer(() => answers[server.requests.length - 1] ?? { status: 500, body: '' });
    const { gateway: wechat } = resilient(
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
    const query = { paymentId: PAYMENT_ID, refundId: 'r-1', channelTransactionId: 'tx-1' };
    const results = [];
    for (let call = 0; call < answers.length; call += 1)
      results.push(await wechat.queryRefund(query));
    expect(results).toEqual([
      {
        ok: true,
        value: { status: 'succeeded', channelRefundId: '50000000382019052709732678859' },
      },
      { ok: true, value: { status: 'pending' } },
      { ok: true, value: { status: 'failed', failureReason: 'refund ABNORMAL' } },
      { ok: true, value: { status: 'unknown' } },
    ]);
    for (const request of server.requests) {
      expect([request.method, request.url]).toEqual(['GET', '/v3/refund/domestic/refunds/r-1']);
      const authorization = request.headers.authorization ?? '';
      const fields = Object.fromEntries(
        [...authorization.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]),
      );
      const message = Formatter.request(
        'GET',
        request.url,
        fields['timestamp'] ?? '',
        fields['nonce_str'] ?? '',
        '',
      );
      expect(Rsa.verify(message, fields['signature'] ?? '', merchant.publicKey)).toBe(true);
    }
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
  /** alipay-sdk set up as Alipay's gateway sees the merchant: with the app's public key. */
  const checker = alipaySdkOf({
    privateKey: appKeys.privateKey,
    alipayPublicKey: appKeys.publicKey,
  });
  /** What Alipay's gateway verifies: every parameter but `sign` (sign_type too), sorted. */
  const gatewayBase = (params: ReadonlyMap<string, string>, leftOut: readonly string[]) =>
    [...params.keys()]
      .filter((name) => !leftOut.includes(name))
      .sort()
      .map((name) => `${name}=${params.get(name) ?? ''}`)
      .join('&');
  const expectSdkVerified = (request: FakeRequest | undefined): Map<string, string> => {
    const params = new Map(new URLSearchParams(request?.body ?? ''));
    const sign = params.get('sign') ?? '';
    expect(checker.rsaCheck(gatewayBase(params, ['sign']), sign, 'RSA2')).toBe(true);
    const resigned = new URLSearchParams(
      checker.sdkExecute(
        params.get('method') ?? '',
        {
          format: params.get('format'),
          timestamp: params.get('timestamp'),
          notify_url: params.get('notify_url'),
          bizContent: JSON.parse(params.get('biz_content') ?? '{}') as Record<string, string>,
        },
        { bizContentAutoSnakeCase: false },
      ),
    );
    expect(resigned.get('sign')).toBe(sign);
    return params;
  };
  const rsa2 = (key: KeyObject, text: string) =>
    createSign('RSA-SHA256').update(text, 'utf8').sign(key, 'base64');
  const signedAnswer = (method: string, node: string) => {
    const sign = rsa2(alipayKeys.privateKey, node);
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
    const params = expectSdkVerified(server.requests[0]);
    expect([params.get('app_id'), params.get('method'), params.get('sign_type')]).toEqual([
      ALIPAY_APP_ID,
      'alipay.trade.precreate',
      'RSA2',
    ]);
    expect(JSON.parse(params.get('biz_content') ?? '{}')).toMatchObject({
      out_trade_no: ORDER_NO,
      total_amount: '10.00',
    });
  });

  it('signs sign_type too: a signature without it (the old base) does not verify', async () => {
    server.answer(() =>
      signedAnswer('alipay.trade.query', '{"code":"10000","trade_status":"WAIT_BUYER_PAY"}'),
    );
    await expect(gateway().gateway.queryOrder(PAYMENT_ID)).resolves.toMatchObject({ ok: true });
    const params = expectSdkVerified(server.requests[0]);
    const oldSign = rsa2(appKeys.privateKey, gatewayBase(params, ['sign', 'sign_type']));
    expect(checker.rsaCheck(gatewayBase(params, ['sign']), oldSign, 'RSA2')).toBe(false);
  });

  it('signs every operation: query, close and refund', async () => {
    server.answer((request) => {
      const method = new URLSearchParams(request.body).get('method') ?? '';
      return signedAnswer(method, '{"code":"10000","trade_status":"TRADE_CLOSED"}');
    });
    const { gateway: alipay } = gateway();
    await alipay.queryOrder(PAYMENT_ID);
    await alipay.closeOrder(PAYMENT_ID);
    await alipay.refund({
      paymentId: PAYMENT_ID,
      refundId: 'r-1',
      amountMinor: 400,
      currency: 'CNY',
      channelTransactionId: 'tx-1',
    });
    expect(server.requests.map((request) => expectSdkVerified(request).get('method'))).toEqual([
      'alipay.trade.query',
      'alipay.trade.close',
      'alipay.trade.refund',
    ]);
  });

  it('queries a refund (fastpay.refund.query, SDK-verified): found is succeeded, absent is unknown', async () => {
    const nodes = [
      '{"code":"10000","msg":"Success","trade_no":"2014112611001004680073956707","out_trade_no":"x","out_request_no":"r-1","refund_amount":"4.00","refund_status":"REFUND_SUCCESS"}',
      '{"code":"10000","msg":"Success","trade_no":"2014112611001004680073956707","out_trade_no":"x"}',
    ];
    server.answer(() =>
      signedAnswer('alipay.trade.fastpay.refund.query', nodes[server.requests.length - 1] ?? '{}'),
    );
    const { gateway: alipay } = gateway();
    const query = { paymentId: PAYMENT_ID, refundId: 'r-1', channelTransactionId: 'tx-1' };
    expect([await alipay.queryRefund(query), await alipay.queryRefund(query)]).toEqual([
      {
        ok: true,
        value: { status: 'succeeded', channelRefundId: '2014112611001004680073956707:r-1' },
      },
      { ok: true, value: { status: 'unknown' } },
    ]);
    for (const request of server.requests) {
      const params = expectSdkVerified(request);
      expect(params.get('method')).toBe('alipay.trade.fastpay.refund.query');
      expect(JSON.parse(params.get('biz_content') ?? '{}')).toEqual({
        out_trade_no: ORDER_NO,
        out_request_no: 'r-1',
      });
    }
  });

  it('refuses an answer whose node was changed after signing', async () => {
    server.answer(() => {
      const signed = signedAnswer(
        'alipay.trade.precreate',
        '{"code":"10000","qr_code":"https://qr.alipay.com/bax03431"}',
      );
      return { ...signed, body: signed.body.replace('bax03431', 'evil0000') };
    });
    await expect(gateway().gateway.createOrder(order)).resolves.toEqual({
      ok: false,
      kind: 'permanent',
      reason: 'answer signature does not verify',
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
      body: '{"data":[{"id":"pi_1","status":"succeeded","amount_received":1000,"currency":"eur","latest_charge":{"id":"ch_1","created":1740823200}}]}',
    }));
    await expect(gateway().gateway.queryOrder(PAYMENT_ID)).resolves.toEqual({
      ok: true,
      value: {
        status: 'succeeded',
        channelTransactionId: 'pi_1',
        amountMinor: 1000,
        currency: 'EUR',
        paidAt: '2025-03-01T10:00:00.000Z', // the expanded latest charge's created
      },
    });
    expect(server.requests[0]?.url).toContain('expand[]=data.latest_charge');
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

  it("queries a refund among the payment intent's refunds by its metadata", async () => {
    const refunds = [
      { id: 're_other', status: 'succeeded', metadata: { refundId: 'r-0' } },
      { id: 're_1', status: 'succeeded', metadata: { refundId: 'r-1' } },
    ];
    const answers = [
      refunds,
      [{ id: 're_1', status: 'pending', metadata: { refundId: 'r-1' } }],
      [
        {
          id: 're_1',
          status: 'failed',
          failure_reason: 'expired_or_canceled_card',
          metadata: { refundId: 'r-1' },
        },
      ],
      [],
    ];
    server.answer(() => ({
      status: 200,
      body: JSON.stringify({ object: 'list', data: answers[server.requests.length - 1] ?? [] }),
    }));
    const { gateway: stripe } = gateway();
    const query = { paymentId: PAYMENT_ID, refundId: 'r-1', channelTransactionId: 'pi_1' };
    const results = [];
    for (let call = 0; call < answers.length; call += 1)
      results.push(await stripe.queryRefund(query));
    expect(results).toEqual([
      { ok: true, value: { status: 'succeeded', channelRefundId: 're_1' } },
      { ok: true, value: { status: 'pending' } },
      {
        ok: true,
        value: { status: 'failed', failureReason: 'refund failed: expired_or_canceled_card' },
      },
      { ok: true, value: { status: 'unknown' } },
    ]);
    expect([
      server.requests[0]?.method,
      server.requests[0]?.url,
      server.requests[0]?.headers.authorization,
    ]).toEqual(['GET', '/v1/refunds?payment_intent=pi_1&limit=100', 'Bearer sk_test_123']);
  });
});
