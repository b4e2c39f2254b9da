import { register } from 'prom-client';
import { createAlipayVerifier } from '../../adapters/channels/alipay/alipay.verifier';
import { createStripeVerifier } from '../../adapters/channels/stripe/stripe.verifier';
import { createWechatV2Verifier } from '../../adapters/channels/wechat/wechat-v2.verifier';
import { createWechatV3Verifier } from '../../adapters/channels/wechat/wechat-v3.verifier';
import { channelOrderNoOf } from '../../domain/payment/payment-id';
import {
  ALIPAY_APP_ID,
  STRIPE_SECRETS,
  WECHAT_V2,
  WECHAT_V3,
  alipayForm,
  rsaKeys,
  stripeEvent,
  stripeSignature,
  v3PaidResource,
  wechatV3Delivery,
  wechatV2PaymentXml,
} from '../adapters/channels/channel-fixtures';
import { createLedgerApp, type LedgerApp } from './support/ledger-app';

const platform = rsaKeys();
const alipayKeys = rsaKeys();
const NOW_MS = Date.parse('2025-03-01T10:00:00Z');

const verifiers = [
  createWechatV2Verifier(WECHAT_V2),
  createWechatV3Verifier({
    mchId: WECHAT_V3.mchId,
    apiV3Key: WECHAT_V3.apiV3Key,
    platformKeys: new Map([[WECHAT_V3.serial, platform.publicKey]]),
  }),
  createAlipayVerifier({ appId: ALIPAY_APP_ID, alipayPublicKey: alipayKeys.publicKey }),
  createStripeVerifier({ secrets: STRIPE_SECRETS }),
];

describe('channel callbacks over HTTP', () => {
  let app: LedgerApp;
  let orderCount = 0;
  /** Real channels take live payments only: a live-mode merchant's key. */
  let liveKey = '';
  beforeAll(async () => {
    app = await createLedgerApp({ nowMs: () => NOW_MS, verifiers });
    liveKey = await app.addClient('live-shop', 'merchant', 'live');
    await app.post('/v1/accounts', { accountId: 'shop-cny', currency: 'CNY' }, liveKey);
    await app.post('/v1/accounts', { accountId: 'shop-eur', currency: 'EUR' }, liveKey);
  });

  const newPayment = async (
    channel: string,
    currency = 'CNY',
    amountMinor = 1000,
  ): Promise<string> => {
    orderCount += 1;
    const body = {
      merchantOrderNo: `order-${orderCount}`,
      amountMinor,
      currency,
      channel,
      subject: 'Plan',
      creditAccountId: currency === 'CNY' ? 'shop-cny' : 'shop-eur',
    };
    const response = await app.post('/v1/payments', body, liveKey);
    return response.body.data.payment.paymentId as string;
  };
  const paymentEvents = async (paymentId: string) =>
    (
      await app.store.readStream(`payment-${paymentId}`, {
        fromRevision: 0,
        direction: 'forwards',
        eventCountMax: 100,
      })
    ).map((event) => event.type);
  const channelLog = async (paymentId: string) =>
    (
      await app.store.readStream(`channellog-${paymentId}`, {
        fromRevision: 0,
        direction: 'forwards',
        eventCountMax: 100,
      })
    ).map((event) => [event.type, event.data['refusal'] ?? event.data['reason'] ?? null]);
  const postWechat = (xml: string) =>
    app.http().post('/v1/channels/wechat/callbacks').set('Content-Type', 'text/xml').send(xml);

  describe('WeChat Pay v2', () => {
    it('credits once, acknowledges duplicates and replays in XML without a second effect', async () => {
      const paymentId = await newPayment('wechat');
      const xml = wechatV2PaymentXml({ out_trade_no: channelOrderNoOf(paymentId) });
      const first = await postWechat(xml);
      expect([first.status, first.type]).toEqual([200, 'application/xml']);
      expect(first.text).toContain('<return_code><![CDATA[SUCCESS]]></return_code>');
      const replay = await postWechat(xml);
      expect([replay.status, replay.text.includes('SUCCESS')]).toEqual([200, true]);
      const redelivered = await postWechat(
        wechatV2PaymentXml({
          out_trade_no: channelOrderNoOf(paymentId),
          nonce_str: 'second-delivery',
        }),
      );
      expect(redelivered.status).toBe(200);
      expect(await paymentEvents(paymentId)).toEqual(['PaymentCreated', 'PaymentSucceeded']);
      expect(await channelLog(paymentId)).toContainEqual(['ChannelCallbackRefused', 'replayed']);
      const metrics = await register.getSingleMetricAsString('channel_callbacks_total');
      expect(metrics).toMatch(/channel="wechat",outcome="replayed"} [1-9]/);
      expect(metrics).toMatch(/channel="wechat",outcome="duplicate"} [1-9]/);
    });

    it('looks up no replay key for a first delivery, and applies concurrent deliveries once', async () => {
      const paymentId = await newPayment('wechat');
      const xml = wechatV2PaymentXml({ out_trade_no: channelOrderNoOf(paymentId) });
      const lookups = jest.spyOn(app.store, 'readIdempotencyRecord');
      const replayLookups = () =>
        lookups.mock.calls.filter(([scope]) => scope === 'channel-callback:wechat').length;
      try {
        expect((await postWechat(xml)).status).toBe(200);
        expect(replayLookups()).toBe(0);
        expect((await postWechat(xml)).text).toContain('SUCCESS');
        expect(replayLookups()).toBe(1);

        const racedId = await newPayment('wechat');
        const raced = wechatV2PaymentXml({ out_trade_no: channelOrderNoOf(racedId) });
        const answers = await Promise.all([1, 2, 3].map(() => postWechat(raced)));
        expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
        expect(await paymentEvents(racedId)).toEqual(['PaymentCreated', 'PaymentSucceeded']);
        // The deliveries decided beside the one that paid changed nothing: asked afterwards.
        expect(await channelLog(racedId)).toContainEqual(['ChannelCallbackRefused', 'replayed']);
      } finally {
        lookups.mockRestore();
      }
    });

    it('flags an amount one fen off and a wrong currency, raises an alert and credits nothing', async () => {
      const paymentId = await newPayment('wechat');
      const orderNo = channelOrderNoOf(paymentId);
      expect(
        (
          await postWechat(
            wechatV2PaymentXml({
              out_trade_no: orderNo,
              total_fee: '999',
              transaction_id: 'tx-off',
            }),
          )
        ).status,
      ).toBe(200);
      expect(
        (
          await postWechat(
            wechatV2PaymentXml({
              out_trade_no: orderNo,
              fee_type: 'USD',
              transaction_id: 'tx-usd',
              nonce_str: 'n2',
            }),
          )
        ).status,
      ).toBe(200);
      expect(await paymentEvents(paymentId)).toEqual([
        'PaymentCreated',
        'PaymentFlagged',
        'PaymentFlagged',
      ]);
      expect(await channelLog(paymentId)).toEqual(
        expect.arrayContaining([
          ['ChannelAlertRaised', 'amount_mismatch'],
          ['ChannelAlertRaised', 'currency_mismatch'],
        ]),
      );
    });

    it.each([
      ['a forged signature', () => wechatV2PaymentXml({}, { apiKey: 'f'.repeat(32) }), 401],
      [
        'an XXE document',
        () =>
          `<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><return_code>&xxe;</return_code></xml>`,
        400,
      ],
      ['malformed XML', () => '<xml><return_code>SUCCESS', 400],
      [
        'a wrong sign type',
        () => wechatV2PaymentXml({ sign_type: 'MD5' }, { signType: 'MD5' }),
        401,
      ],
    ])('refuses %s with a FAIL acknowledgement and an audit event', async (_name, xml, status) => {
      const before = (await app.store.headPosition()) ?? 0n;
      const response = await postWechat(xml());
      expect([
        response.status,
        response.text.includes('<return_code><![CDATA[FAIL]]></return_code>'),
      ]).toEqual([status, true]);
      const after = await app.store.readAll({ afterPosition: before, eventCountMax: 10 });
      expect(after.map((event) => event.type)).toEqual(['ChannelCallbackRefused']);
    });

    it('refuses an oversized body with 413 in the channel format', async () => {
      const response = await postWechat(`<xml><a>${'x'.repeat(70 * 1024)}</a></xml>`);
      expect([response.status, response.text.includes('FAIL')]).toEqual([413, true]);
    });

    it('answers a callback for an unknown payment with 404 and FAIL', async () => {
      const response = await postWechat(
        wechatV2PaymentXml({ out_trade_no: 'ffffffffffffffffffffffffffffffff' }),
      );
      expect([response.status, response.text.includes('FAIL')]).toEqual([404, true]);
    });
  });

  it('WeChat Pay v3: applies a verified notification once; a stale one is refused', async () => {
    const paymentId = await newPayment('wechat');
    const delivery = wechatV3Delivery(
      platform.privateKey,
      v3PaidResource({ out_trade_no: channelOrderNoOf(paymentId) }),
    );
    const send = (body: string, headers: Record<string, string>) =>
      app
        .http()
        .post('/v1/channels/wechat-v3/callbacks')
        .set('Content-Type', 'application/json')
        .set(headers)
        .send(body);
    const first = await send(delivery.body, delivery.headers);
    expect([first.status, first.body]).toEqual([200, { code: 'SUCCESS', message: 'OK' }]);
    const stale = wechatV3Delivery(
      platform.privateKey,
      v3PaidResource({ out_trade_no: channelOrderNoOf(paymentId) }),
      { timestampSeconds: NOW_MS / 1000 - 400, nonce: 'other' },
    );
    const refused = await send(stale.body, stale.headers);
    expect([refused.status, refused.body.code]).toEqual([401, 'FAIL']);
    expect(await paymentEvents(paymentId)).toEqual(['PaymentCreated', 'PaymentSucceeded']);
  });

  it("Alipay: applies a verified notification and answers 'success'; a forged one gets 'failure'", async () => {
    const paymentId = await newPayment('alipay');
    const form = alipayForm(alipayKeys.privateKey, { out_trade_no: channelOrderNoOf(paymentId) });
    const send = (body: string) =>
      app
        .http()
        .post('/v1/channels/alipay/callbacks')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(body);
    expect((await send(form)).text).toBe('success');
    expect(
      (await send(alipayForm(rsaKeys().privateKey, { out_trade_no: channelOrderNoOf(paymentId) })))
        .text,
    ).toBe('failure');
    expect(await paymentEvents(paymentId)).toEqual(['PaymentCreated', 'PaymentSucceeded']);
  });

  it('Stripe-style: applies a signed event; the redelivered event id is acknowledged without effect', async () => {
    const paymentId = await newPayment('stripe', 'EUR', 2000);
    const body = stripeEvent(
      'payment_intent.succeeded',
      { id: 'pi_9', amount: 2000, currency: 'eur', metadata: { paymentId } },
      `evt_${paymentId}`,
    );
    const send = () =>
      app
        .http()
        .post('/v1/channels/stripe/callbacks')
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', stripeSignature(STRIPE_SECRETS[1] ?? '', body, NOW_MS))
        .send(body);
    expect((await send()).body).toEqual({ received: true });
    expect((await send()).body).toEqual({ received: true });
    expect(await paymentEvents(paymentId)).toEqual(['PaymentCreated', 'PaymentSucceeded']);
    expect(await channelLog(paymentId)).toContainEqual(['ChannelCallbackRefused', 'replayed']);
  });

  it('Stripe-style: acknowledges a refund still in progress and a type it does not act on, changing nothing', async () => {
    const paymentId = await newPayment('stripe', 'EUR', 2000);
    const send = (body: string) =>
      app
        .http()
        .post('/v1/channels/stripe/callbacks')
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', stripeSignature(STRIPE_SECRETS[0] ?? '', body, NOW_MS))
        .send(body);
    const pending = stripeEvent('refund.updated', {
      id: 're_1',
      status: 'pending',
      metadata: { paymentId, refundId: 'r-1' },
    });
    const other = stripeEvent('charge.updated', { id: 'ch_1', metadata: { paymentId } });
    for (const body of [pending, other]) {
      const answer = await send(body);
      expect([answer.status, answer.body]).toEqual([200, { received: true }]);
    }
    expect(await paymentEvents(paymentId)).toEqual(['PaymentCreated']);
  });
});
