import {
  decryptResource,
  encryptResource,
} from '../../../adapters/channels/wechat/wechat-v3.crypto';
import { createWechatV3Verifier } from '../../../adapters/channels/wechat/wechat-v3.verifier';
import {
  NOW_MS,
  PAID_AT_MS,
  ORDER_NO,
  PAYMENT_ID,
  WECHAT_V3,
  rsaKeys,
  v3PaidResource,
  wechatV3Delivery,
  type V3Delivery,
} from './channel-fixtures';

const platform = rsaKeys();
const stranger = rsaKeys();
const verifier = createWechatV3Verifier({
  mchId: WECHAT_V3.mchId,
  apiV3Key: WECHAT_V3.apiV3Key,
  platformKeys: new Map([[WECHAT_V3.serial, platform.publicKey]]),
});
const verify = (delivery: V3Delivery, nowMs = NOW_MS) =>
  verifier.verify(Buffer.from(delivery.body), delivery.headers, nowMs);
const refusalOf = (delivery: V3Delivery, nowMs = NOW_MS) => {
  const result = verify(delivery, nowMs);
  return result.ok ? 'accepted' : result.refusal;
};

describe('WeChat Pay v3 notifications', () => {
  it('verifies SHA256-RSA over timestamp, nonce and body and decrypts the resource', () => {
    expect(verify(wechatV3Delivery(platform.privateKey, v3PaidResource()))).toMatchObject({
      ok: true,
      notification: {
        kind: 'payment',
        outcome: 'succeeded',
        paymentId: PAYMENT_ID,
        amountMinor: 1000,
        currency: 'CNY',
        channelTransactionId: '4200000001201902221234567890',
        channelPaidAt: new Date(PAID_AT_MS).toISOString(), // success_time, RFC 3339 +08:00.
      },
    });
  });

  it('round-trips AEAD_AES_256_GCM and refuses a tampered tag or the wrong associated data', () => {
    const resource = encryptResource('{"a":1}', WECHAT_V3.apiV3Key, '0123456789ab', 'transaction');
    expect(decryptResource(resource, WECHAT_V3.apiV3Key)).toBe('{"a":1}');
    expect(
      decryptResource({ ...resource, associated_data: 'other' }, WECHAT_V3.apiV3Key),
    ).toBeNull();
    const bytes = Buffer.from(resource.ciphertext, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    expect(
      decryptResource({ ...resource, ciphertext: bytes.toString('base64') }, WECHAT_V3.apiV3Key),
    ).toBeNull();
  });

  it('accepts refund results', () => {
    const refund = {
      out_trade_no: ORDER_NO,
      out_refund_no: 'r-1',
      refund_id: '50000000382019052709732678859',
      refund_status: 'SUCCESS',
    };
    expect(
      verify(wechatV3Delivery(platform.privateKey, refund, { eventType: 'REFUND.SUCCESS' })),
    ).toMatchObject({
      ok: true,
      notification: { kind: 'refund', outcome: 'succeeded', refundId: 'r-1' },
    });
    expect(
      verify(
        wechatV3Delivery(
          platform.privateKey,
          { ...refund, refund_status: 'ABNORMAL' },
          { eventType: 'REFUND.ABNORMAL' },
        ),
      ),
    ).toMatchObject({ ok: true, notification: { outcome: 'failed' } });
  });

  const good = (): V3Delivery => wechatV3Delivery(platform.privateKey, v3PaidResource());
  it.each<[string, () => V3Delivery, string, number?]>([
    [
      'a signature by another key',
      () => wechatV3Delivery(stranger.privateKey, v3PaidResource()),
      'invalid_signature',
    ],
    [
      'an unknown certificate serial',
      () => wechatV3Delivery(platform.privateKey, v3PaidResource(), { serial: 'UNKNOWN' }),
      'invalid_signature',
    ],
    [
      'a truncated signature',
      () => ({
        ...good(),
        headers: {
          ...good().headers,
          'wechatpay-signature': good().headers['wechatpay-signature']?.slice(0, 100) ?? '',
        },
      }),
      'invalid_signature',
    ],
    [
      'a signature that is not base64',
      () => ({ ...good(), headers: { ...good().headers, 'wechatpay-signature': '!!!' } }),
      'invalid_signature',
    ],
    [
      // Node's base64 decoder skips such characters: the bytes would still verify.
      'a signature with a character outside base64 in it',
      () => {
        const signature = good().headers['wechatpay-signature'] ?? '';
        return {
          ...good(),
          headers: {
            ...good().headers,
            'wechatpay-signature': `${signature.slice(0, 10)}!${signature.slice(10)}`,
          },
        };
      },
      'invalid_signature',
    ],
    [
      'a signature in the base64url alphabet',
      () => {
        const signature = Buffer.from(good().headers['wechatpay-signature'] ?? '', 'base64');
        return {
          ...good(),
          headers: { ...good().headers, 'wechatpay-signature': signature.toString('base64url') },
        };
      },
      'invalid_signature',
    ],
    [
      'another signature type',
      () => ({
        ...good(),
        headers: { ...good().headers, 'wechatpay-signature-type': 'WECHATPAY2-SM2-WITH-SM3' },
      }),
      'invalid_signature',
    ],
    ['missing headers', () => ({ body: good().body, headers: {} }), 'invalid_signature'],
    [
      'a body changed after signing',
      () => ({ ...good(), body: good().body.replace('pay ok', 'pay OK') }),
      'invalid_signature',
    ],
    [
      'a resource under another APIv3 key',
      () => wechatV3Delivery(platform.privateKey, v3PaidResource(), { apiV3Key: 'z'.repeat(32) }),
      'invalid_signature',
    ],
    [
      'another merchant',
      () => wechatV3Delivery(platform.privateKey, v3PaidResource({ mchid: '1' })),
      'invalid_signature',
    ],
    [
      'a timestamp older than 5 minutes',
      () =>
        wechatV3Delivery(platform.privateKey, v3PaidResource(), {
          timestampSeconds: NOW_MS / 1000 - 301,
        }),
      'stale_signature',
    ],
    [
      'a timestamp more than 1 minute ahead',
      () =>
        wechatV3Delivery(platform.privateKey, v3PaidResource(), {
          timestampSeconds: NOW_MS / 1000 + 61,
        }),
      'stale_signature',
    ],
    [
      'a fractional amount',
      () =>
        wechatV3Delivery(
          platform.privateKey,
          v3PaidResource({ amount: { total: 10.5, currency: 'CNY' } }),
        ),
      'malformed_callback',
    ],
    [
      'an unknown event type',
      () =>
        wechatV3Delivery(platform.privateKey, v3PaidResource(), {
          eventType: 'TRANSACTION.WHATEVER',
        }),
      'malformed_callback',
    ],
  ])('refuses %s', (_name, delivery, refusal) => {
    expect(refusalOf(delivery())).toBe(refusal);
  });

  it('accepts a timestamp just inside the window and the allowed skew', () => {
    expect(
      refusalOf(
        wechatV3Delivery(platform.privateKey, v3PaidResource(), {
          timestampSeconds: NOW_MS / 1000 - 300,
        }),
      ),
    ).toBe('accepted');
    expect(
      refusalOf(
        wechatV3Delivery(platform.privateKey, v3PaidResource(), {
          timestampSeconds: NOW_MS / 1000 + 60,
        }),
      ),
    ).toBe('accepted');
  });

  it('acknowledges in v3 JSON', () => {
    expect(JSON.parse(verifier.acknowledge?.(false, 'bad').body ?? '')).toEqual({
      code: 'FAIL',
      message: 'bad',
    });
  });
});
