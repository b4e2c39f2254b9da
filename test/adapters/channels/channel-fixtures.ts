import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import Stripe from 'stripe';
import { Aes, Formatter, Hash, Rsa, Transformer } from 'wechatpay-axios-plugin';
import { alipayTimeOf } from '../../../adapters/channels/alipay/alipay.sign';

/**
 * Plays the channels in tests: builds their callbacks signed with keys generated here, by the
 * channels' own SDKs (wechatpay-axios-plugin, stripe) or, where the SDK has no signer (Alipay's
 * notifications), by code written here and checked by alipay-sdk. Never by the project's signers.
 */
export const NOW_MS = Date.parse('2025-03-01T10:00:00Z');
/** When the fixtures' payer paid: 18:00 Beijing time, as WeChat v2 / Alipay write it. */
export const PAID_AT_MS = Date.parse('2025-03-01T10:00:00Z');
export const PAYMENT_ID = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
export const ORDER_NO = PAYMENT_ID.replace(/-/g, '');

export const rsaKeys = (): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync('rsa', { modulusLength: 2048 });

export const WECHAT_V2 = {
  appId: 'wx2421b1c4370ec43b',
  mchId: '10000100',
  apiKey: '192006250b4c09247ec02edce69f6a2d',
  signType: 'HMAC-SHA256' as 'MD5' | 'HMAC-SHA256',
};

export const wechatV2PaymentXml = (
  fields: Record<string, string> = {},
  options: { apiKey?: string; signType?: 'MD5' | 'HMAC-SHA256' } = {},
): string => {
  const params: Record<string, string> = {
    return_code: 'SUCCESS',
    result_code: 'SUCCESS',
    appid: WECHAT_V2.appId,
    mch_id: WECHAT_V2.mchId,
    nonce_str: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
    sign_type: options.signType ?? WECHAT_V2.signType,
    out_trade_no: ORDER_NO,
    transaction_id: '1004400740201409030005092168',
    total_fee: '1000',
    fee_type: 'CNY',
    time_end: '20250301180000',
    ...fields,
  };
  const sign = Hash.sign(
    options.signType ?? WECHAT_V2.signType,
    params,
    options.apiKey ?? WECHAT_V2.apiKey,
  );
  return Transformer.toXml({ ...params, sign });
};

export const wechatV2RefundXml = (status: string, apiKey = WECHAT_V2.apiKey): string => {
  const info = Transformer.toXml({
    out_trade_no: ORDER_NO,
    out_refund_no: 'refund-1',
    refund_id: '50000408942018111907145868882',
    refund_status: status,
    total_fee: '1000',
    refund_fee: '400',
  }).replace(/^<xml>(.*)<\/xml>$/, '<root>$1</root>');
  return Transformer.toXml({
    return_code: 'SUCCESS',
    appid: WECHAT_V2.appId,
    mch_id: WECHAT_V2.mchId,
    nonce_str: 'refund-nonce',
    req_info: Aes.AesEcb.encrypt(info, Hash.md5(apiKey)),
  });
};

export const WECHAT_V3 = {
  mchId: '1900000001',
  apiV3Key: 'a'.repeat(16) + 'B'.repeat(16),
  serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
};

export type V3Delivery = { body: string; headers: Record<string, string> };

export const wechatV3Delivery = (
  platformKey: KeyObject,
  resource: Record<string, unknown>,
  options: {
    eventType?: string;
    timestampSeconds?: number;
    nonce?: string;
    serial?: string;
    apiV3Key?: string;
  } = {},
): V3Delivery => {
  const resourceNonce = 'fdasflkja484';
  const encrypted = {
    algorithm: 'AEAD_AES_256_GCM',
    ciphertext: Aes.AesGcm.encrypt(
      JSON.stringify({ mchid: WECHAT_V3.mchId, ...resource }),
      options.apiV3Key ?? WECHAT_V3.apiV3Key,
      resourceNonce,
      'transaction',
    ),
    nonce: resourceNonce,
    associated_data: 'transaction',
  };
  const body = JSON.stringify({
    id: 'EV-2018022511223320873',
    create_time: '2025-03-01T18:00:00+08:00',
    resource_type: 'encrypt-resource',
    event_type: options.eventType ?? 'TRANSACTION.SUCCESS',
    summary: 'pay ok',
    resource: { original_type: 'transaction', ...encrypted },
  });
  const timestamp = (options.timestampSeconds ?? Math.floor(NOW_MS / 1000)).toString();
  const nonce = options.nonce ?? 'fdasfjihihihlkja484w';
  const signature = Rsa.sign(Formatter.response(timestamp, nonce, body), platformKey);
  return {
    body,
    headers: {
      'wechatpay-timestamp': timestamp,
      'wechatpay-nonce': nonce,
      'wechatpay-signature': signature,
      'wechatpay-serial': options.serial ?? WECHAT_V3.serial,
    },
  };
};

export const v3PaidResource = (
  overrides: Record<string, unknown> = {},
): Record<string, unknown> => ({
  appid: 'wxd678efh567hg6787',
  out_trade_no: ORDER_NO,
  transaction_id: '4200000001201902221234567890',
  trade_state: 'SUCCESS',
  amount: { total: 1000, payer_total: 1000, currency: 'CNY', payer_currency: 'CNY' },
  success_time: '2025-03-01T18:00:00+08:00',
  ...overrides,
});

export const ALIPAY_APP_ID = '2021000117650139';

export const alipayForm = (
  appPrivateKey: KeyObject,
  fields: Record<string, string> = {},
  options: { signType?: string; notifyMs?: number } = {},
): string => {
  const params = new Map<string, string>(
    Object.entries({
      notify_time: alipayTimeOf(options.notifyMs ?? NOW_MS),
      notify_type: 'trade_status_sync',
      notify_id: 'ac05099524730693a8b330c5ecf72da9786',
      app_id: ALIPAY_APP_ID,
      charset: 'utf-8',
      version: '1.0',
      sign_type: options.signType ?? 'RSA2',
      trade_no: '2013112011001004330000121536',
      out_trade_no: ORDER_NO,
      trade_status: 'TRADE_SUCCESS',
      total_amount: '10.00',
      gmt_payment: '2025-03-01 18:00:00',
      ...fields,
    }),
  );
  params.set('sign', signAlipayNotification(params, appPrivateKey));
  return new URLSearchParams([...params.entries()]).toString();
};

/**
 * Alipay signs a notification over its parameters except `sign` and `sign_type`, sorted, joined
 * `k=v&…` (opendocs.alipay.com, 异步通知验签). alipay-sdk has no notification signer, so this one is
 * written here, apart from the project's code, and `alipayNotifyChecker` confirms it.
 */
const signAlipayNotification = (params: ReadonlyMap<string, string>, key: KeyObject): string =>
  createSign('RSA-SHA256')
    .update(
      [...params.keys()]
        .filter((name) => name !== 'sign' && name !== 'sign_type')
        .sort()
        .map((name) => `${name}=${params.get(name) ?? ''}`)
        .join('&'),
    )
    .sign(key, 'base64');

const pemOf = (key: KeyObject): string =>
  key.type === 'private'
    ? key.export({ type: 'pkcs8', format: 'pem' }).toString()
    : key.export({ type: 'spki', format: 'pem' }).toString();

/** alipay-sdk configured as the merchant: checks notifications and signs like the merchant. */
export const alipaySdkOf = (appKeys: {
  privateKey: KeyObject;
  alipayPublicKey: KeyObject;
}): AlipaySdk =>
  new AlipaySdk({
    appId: ALIPAY_APP_ID,
    privateKey: pemOf(appKeys.privateKey).trim(),
    keyType: 'PKCS8',
    alipayPublicKey: pemOf(appKeys.alipayPublicKey).trim(),
  });

/** A form body as the object alipay-sdk's `checkNotifySignV2` takes. */
export const formObject = (form: string): Record<string, string> =>
  Object.fromEntries(new URLSearchParams(form));

export const STRIPE_SECRETS = ['whsec_old_secret_value', 'whsec_new_secret_value'];

export const stripeEvent = (
  type: string,
  object: Record<string, unknown>,
  id = 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
): string =>
  JSON.stringify({ id, object: 'event', type, created: PAID_AT_MS / 1000, data: { object } });

/** Stripe's own client, for its webhook helpers (no request leaves the test). */
export const stripeSdk = new Stripe('sk_test_fixture');

export const stripeSignature = (secret: string, body: string, nowMs = NOW_MS): string =>
  stripeSdk.webhooks.generateTestHeaderString({
    payload: body,
    secret,
    timestamp: Math.floor(nowMs / 1000),
  });
