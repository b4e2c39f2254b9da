import { createWechatV2Verifier } from '../../../adapters/channels/wechat/wechat-v2.verifier';
import {
  parseFlatXml,
  signWechatV2,
  wechatV2Acknowledgement,
} from '../../../adapters/channels/wechat/wechat-v2.xml';
import {
  NOW_MS,
  PAID_AT_MS,
  PAYMENT_ID,
  WECHAT_V2,
  wechatV2PaymentXml,
  wechatV2RefundXml,
} from './channel-fixtures';

const verifier = createWechatV2Verifier(WECHAT_V2);
const verify = (xml: string) => verifier.verify(Buffer.from(xml), {}, NOW_MS);
const refusalOf = (xml: string) => {
  const result = verify(xml);
  return result.ok ? 'accepted' : result.refusal;
};

describe('WeChat Pay v2 signatures', () => {
  // The example of WeChat's "安全规范" page: stringA, key, and both published results.
  const example = {
    appid: 'wxd930ea5d5a258f4f',
    mch_id: '10000100',
    device_info: '1000',
    body: 'test',
    nonce_str: 'ibuaiVcKdpRxkhJA',
  };
  const key = '192006250b4c09247ec02edce69f6a2d';

  it('matches the published MD5 and HMAC-SHA256 test vectors', () => {
    expect(signWechatV2(example, key, 'MD5')).toBe('9A0A8659F005D6984697E2CA0A9CF3B7');
    expect(signWechatV2(example, key, 'HMAC-SHA256')).toBe(
      '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
    );
  });

  it('leaves out empty parameters and sign itself', () => {
    expect(signWechatV2({ ...example, empty: '', sign: 'X' }, key, 'MD5')).toBe(
      '9A0A8659F005D6984697E2CA0A9CF3B7',
    );
  });
});

describe('WeChat Pay v2 notifications', () => {
  it('accepts a signed payment notification and parses amount, currency and time_end', () => {
    const result = verify(wechatV2PaymentXml());
    expect(result).toMatchObject({
      ok: true,
      notification: {
        kind: 'payment',
        outcome: 'succeeded',
        paymentId: PAYMENT_ID,
        amountMinor: 1000,
        currency: 'CNY',
        channelPaidAt: new Date(PAID_AT_MS).toISOString(), // time_end 20250301180000, Beijing.
      },
    });
  });

  it('leaves the paid time out when time_end is missing or malformed', () => {
    for (const timeEnd of ['', '2025-03-01 18:00:00']) {
      const result = verify(wechatV2PaymentXml({ time_end: timeEnd }));
      expect(result.ok === true && result.notification).not.toHaveProperty('channelPaidAt');
    }
  });

  it('accepts the CDATA-wrapped values WeChat sends', () => {
    const cdata = wechatV2PaymentXml().replace(/<(\w+)>([^<]*)<\/\1>/g, '<$1><![CDATA[$2]]></$1>');
    expect(cdata).toContain('<total_fee><![CDATA[1000]]></total_fee>');
    expect(verify(cdata)).toMatchObject({ ok: true, notification: { amountMinor: 1000 } });
  });

  it('reports a failed payment', () => {
    expect(
      verify(wechatV2PaymentXml({ result_code: 'FAIL', err_code_des: 'no money' })),
    ).toMatchObject({ ok: true, notification: { outcome: 'failed', failureReason: 'no money' } });
  });

  it.each([
    ['a forged signature', wechatV2PaymentXml({}, { apiKey: 'f'.repeat(32) }), 'invalid_signature'],
    [
      'another sign type than configured',
      wechatV2PaymentXml({}, { signType: 'MD5' }),
      'invalid_signature',
    ],
    ['an unknown sign type', wechatV2PaymentXml({ sign_type: 'SHA1' }), 'invalid_signature'],
    [
      'a truncated sign',
      wechatV2PaymentXml().replace(
        /<sign>(\w+)<\/sign>/,
        (_all, sign: string) => `<sign>${sign.slice(0, 20)}</sign>`,
      ),
      'invalid_signature',
    ],
    ['another merchant', wechatV2PaymentXml({ mch_id: '999' }), 'invalid_signature'],
    [
      'a tampered amount',
      wechatV2PaymentXml().replace('<total_fee>1000</total_fee>', '<total_fee>1</total_fee>'),
      'invalid_signature',
    ],
    [
      'a DTD with an entity (XXE)',
      `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${wechatV2PaymentXml()}`,
      'malformed_callback',
    ],
    [
      'entity expansion',
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><xml><a>&lol2;</a></xml>',
      'malformed_callback',
    ],
    ['malformed XML', '<xml><return_code>SUCCESS</xml>', 'malformed_callback'],
    ['nested elements', '<xml><return_code><a>1</a></return_code></xml>', 'malformed_callback'],
    ['an empty body', '', 'malformed_callback'],
    ['return_code FAIL', wechatV2PaymentXml({ return_code: 'FAIL' }), 'malformed_callback'],
    [
      'a foreign out_trade_no',
      wechatV2PaymentXml({ out_trade_no: 'order-1' }),
      'malformed_callback',
    ],
    ['a fractional total_fee', wechatV2PaymentXml({ total_fee: '10.5' }), 'malformed_callback'],
  ])('refuses %s', (_name, xml, refusal) => {
    expect(refusalOf(xml)).toBe(refusal);
  });

  it('opens refund notifications with the API key, and refuses them under another key', () => {
    expect(verify(wechatV2RefundXml('SUCCESS'))).toMatchObject({
      ok: true,
      notification: { kind: 'refund', outcome: 'succeeded', refundId: 'refund-1' },
    });
    expect(verify(wechatV2RefundXml('REFUNDCLOSE'))).toMatchObject({
      ok: true,
      notification: { kind: 'refund', outcome: 'failed' },
    });
    expect(refusalOf(wechatV2RefundXml('SUCCESS', 'e'.repeat(32)))).toBe('invalid_signature');
    expect(refusalOf(wechatV2RefundXml('WHATEVER'))).toBe('malformed_callback');
  });

  it('gives distinct replay keys to distinct deliveries and equal ones to a replay', () => {
    const first = verify(wechatV2PaymentXml());
    const again = verify(wechatV2PaymentXml());
    const other = verify(wechatV2PaymentXml({ nonce_str: 'another-nonce' }));
    expect(
      first.ok === true &&
        again.ok === true &&
        other.ok === true && [
          first.replayKey === again.replayKey,
          first.replayKey === other.replayKey,
        ],
    ).toEqual([true, false]);
  });

  it('acknowledges in v2 XML', () => {
    const ack = wechatV2Acknowledgement(false, 'bad ]]> sign');
    expect(parseFlatXml(ack.body)).toEqual({
      ok: true,
      fields: { return_code: 'FAIL', return_msg: 'bad ]]> sign' },
    });
    expect(parseFlatXml(wechatV2Acknowledgement(true, '').body)).toMatchObject({
      fields: { return_code: 'SUCCESS' },
    });
  });
});
