import type {
  ChannelCallbackVerifier,
  VerifyResult,
} from '../../../domain/ports/channel-callback.port';
import { isCurrency } from '../../../domain/money';
import { paymentIdFromOrderNo } from '../../../domain/payment/payment-id';
import { refuse } from '../callback-window';
import { paidAtOf, wechatCompactTime } from '../channel-paid-time';
import {
  decryptRefundInfo,
  parseFlatXml,
  verifyWechatV2Sign,
  wechatV2Acknowledgement,
  type FlatXml,
  type WechatV2SignType,
} from './wechat-v2.xml';

export type WechatV2Credentials = {
  appId: string;
  mchId: string;
  apiKey: string;
  signType: WechatV2SignType;
};

/**
 * WeChat Pay v2 payment and refund notifications. Payment notifications are signed (sign_type
 * must be the configured one); refund notifications carry no sign but an AES-256-ECB `req_info`
 * only the API key opens. v2 bodies carry no signing time, so replay protection rests on the
 * nonce (kept durably) and the payment's dedupe by transaction id.
 */
export const createWechatV2Verifier = (
  credentials: WechatV2Credentials,
): ChannelCallbackVerifier => ({
  channel: 'wechat',
  acknowledge: wechatV2Acknowledgement,
  verify(rawBody) {
    const parsed = parseFlatXml(rawBody.toString('utf8'));
    if (!parsed.ok) return refuse('malformed_callback', parsed.reason);
    const fields = parsed.fields;
    if (fields['return_code'] !== 'SUCCESS')
      return refuse('malformed_callback', 'return_code is not SUCCESS');
    if (fields['appid'] !== credentials.appId || fields['mch_id'] !== credentials.mchId) {
      return refuse('invalid_signature', 'appid or mch_id is not this merchant');
    }
    return fields['req_info'] === undefined
      ? verifyPayment(fields, credentials)
      : verifyRefund(fields, credentials);
  },
});

const verifyPayment = (fields: FlatXml, credentials: WechatV2Credentials): VerifyResult => {
  const signType = fields['sign_type'] ?? 'MD5';
  if (signType !== credentials.signType)
    return refuse('invalid_signature', `sign_type ${signType} is not accepted`);
  if (!/^[0-9A-F]{32}$|^[0-9A-F]{64}$/.test(fields['sign'] ?? ''))
    return refuse('invalid_signature', 'sign is missing or malformed');
  if (!verifyWechatV2Sign(fields, credentials.apiKey, credentials.signType))
    return refuse('invalid_signature', 'sign does not verify');
  const paymentId = paymentIdFromOrderNo(fields['out_trade_no'] ?? '');
  const channelTransactionId = fields['transaction_id'] ?? '';
  const nonce = fields['nonce_str'] ?? '';
  if (paymentId === null || channelTransactionId === '' || nonce === '')
    return refuse('malformed_callback', 'out_trade_no, transaction_id or nonce_str missing');
  const replayKey = `pay:${nonce}:${channelTransactionId}:${paymentId}`;
  if (fields['result_code'] !== 'SUCCESS') {
    const failureReason =
      (fields['err_code_des'] ?? fields['err_code'] ?? 'payment failed').slice(0, 128) ||
      'payment failed';
    return {
      ok: true,
      replayKey,
      notification: {
        kind: 'payment',
        outcome: 'failed',
        paymentId,
        channelTransactionId,
        failureReason,
      },
    };
  }
  const totalFee = fields['total_fee'] ?? '';
  const amountMinor = /^[1-9]\d{0,15}$/.test(totalFee) ? Number(totalFee) : Number.NaN;
  const currency = fields['fee_type'] ?? 'CNY';
  if (!Number.isSafeInteger(amountMinor) || !isCurrency(currency))
    return refuse('malformed_callback', 'total_fee or fee_type is invalid');
  return {
    ok: true,
    replayKey,
    notification: {
      kind: 'payment',
      outcome: 'succeeded',
      paymentId,
      channelTransactionId,
      amountMinor,
      currency,
      ...paidAtOf(wechatCompactTime(fields['time_end'])),
    },
  };
};

const REFUND_FAILURES: Readonly<Record<string, string>> = {
  CHANGE: 'refund failed (CHANGE)',
  REFUNDCLOSE: 'refund closed',
};

const verifyRefund = (fields: FlatXml, credentials: WechatV2Credentials): VerifyResult => {
  const plain = decryptRefundInfo(fields['req_info'] ?? '', credentials.apiKey);
  if (plain === null)
    return refuse('invalid_signature', 'req_info does not decrypt with the API key');
  const info = parseFlatXml(plain, 'root');
  if (!info.ok) return refuse('malformed_callback', `req_info: ${info.reason}`);
  const paymentId = paymentIdFromOrderNo(info.fields['out_trade_no'] ?? '');
  const refundId = info.fields['out_refund_no'] ?? '';
  const channelRefundId = info.fields['refund_id'] ?? '';
  const status = info.fields['refund_status'] ?? '';
  if (paymentId === null || !/^[A-Za-z0-9_-]{1,64}$/.test(refundId) || channelRefundId === '')
    return refuse('malformed_callback', 'req_info lacks out_trade_no, out_refund_no or refund_id');
  const replayKey = `refund:${fields['nonce_str'] ?? ''}:${channelRefundId}:${status}`;
  if (status === 'SUCCESS')
    return {
      ok: true,
      replayKey,
      notification: { kind: 'refund', outcome: 'succeeded', paymentId, refundId, channelRefundId },
    };
  const failureReason = REFUND_FAILURES[status];
  if (failureReason === undefined)
    return refuse('malformed_callback', `unknown refund_status '${status}'`);
  return {
    ok: true,
    replayKey,
    notification: { kind: 'refund', outcome: 'failed', paymentId, refundId, failureReason },
  };
};
