import { randomBytes } from 'node:crypto';
import { channelOrderNoOf, paymentIdFromOrderNo } from '../../../domain/payment/payment-id';
import type {
  ChannelCallResult,
  ChannelOrderStatus,
  ChannelRefundStatus,
} from '../../../domain/ports/payment-channel.port';
import { wechatCompactTime } from '../channel-paid-time';
import { httpCall, isTransientStatus } from '../http-call';
import type { RawChannelGateway } from '../resilient-gateway';
import type { WechatV2Credentials } from './wechat-v2.verifier';
import {
  buildFlatXml,
  parseFlatXml,
  signWechatV2,
  verifyWechatV2Sign,
  type FlatXml,
} from './wechat-v2.xml';

type WechatV2GatewayOptions = WechatV2Credentials & {
  /** https://api.mch.weixin.qq.com in production; a local fake in tests. */
  baseUrl: string;
  notifyUrl: string;
  /** The merchant API certificate: v2 refunds require mutual TLS. */
  clientCertificate: { certPem: string; keyPem: string } | null;
};

/** err_code values WeChat documents as "retry later". */
const TRANSIENT_CODES = new Set([
  'SYSTEMERROR',
  'BIZERR_NEED_RETRY',
  'FREQUENCY_LIMITED',
  'FREQ_LIMIT',
]);
const TRADE_STATES: Readonly<Record<string, ChannelOrderStatus['status']>> = {
  SUCCESS: 'succeeded',
  REFUND: 'succeeded',
  NOTPAY: 'pending',
  USERPAYING: 'pending',
  CLOSED: 'closed',
  REVOKED: 'closed',
  PAYERROR: 'failed',
};

/** refund_status_<n> of refundquery; CHANGE (the money could not reach the payer) did not refund. */
const REFUND_STATES: Readonly<Record<string, 'succeeded' | 'failed' | 'pending'>> = {
  SUCCESS: 'succeeded',
  PROCESSING: 'pending',
  REFUNDCLOSE: 'failed',
  CHANGE: 'failed',
};

/** yyyyMMddHHmmss in Beijing time, WeChat v2's time format. */
const beijingCompact = (iso: string): string =>
  new Date(Date.parse(iso) + 8 * 3600 * 1000).toISOString().slice(0, 19).replace(/[-T:]/g, '');

const post = async (
  options: WechatV2GatewayOptions,
  path: string,
  params: FlatXml,
  signal: AbortSignal,
  mutualTls = false,
): Promise<ChannelCallResult<FlatXml>> => {
  const signed = {
    ...params,
    appid: options.appId,
    mch_id: options.mchId,
    nonce_str: randomBytes(16).toString('hex'),
    sign_type: options.signType,
  };
  const body = buildFlatXml({
    ...signed,
    sign: signWechatV2(signed, options.apiKey, options.signType),
  });
  const clientCertificate = mutualTls ? options.clientCertificate : null;
  const answer = await httpCall({
    method: 'POST',
    url: `${options.baseUrl}${path}`,
    headers: { 'content-type': 'application/xml' },
    body,
    signal,
    clientCertificate,
  });
  if (isTransientStatus(answer.status))
    return { ok: false, kind: 'transient', reason: `HTTP ${answer.status}` };
  const parsed = parseFlatXml(answer.body);
  if (answer.status !== 200 || !parsed.ok)
    return { ok: false, kind: 'permanent', reason: `HTTP ${answer.status}: unreadable answer` };
  const fields = parsed.fields;
  if (fields['return_code'] !== 'SUCCESS')
    return {
      ok: false,
      kind: 'permanent',
      reason: `return_msg: ${fields['return_msg'] ?? 'FAIL'}`,
    };
  if (!verifyWechatV2Sign(fields, options.apiKey, options.signType))
    return { ok: false, kind: 'permanent', reason: 'answer signature does not verify' };
  if (fields['result_code'] !== 'SUCCESS') {
    const code = fields['err_code'] ?? 'FAIL';
    return {
      ok: false,
      kind: TRANSIENT_CODES.has(code) ? 'transient' : 'permanent',
      reason: `${code}: ${fields['err_code_des'] ?? ''}`,
    };
  }
  return { ok: true, value: fields };
};

const queryOrder = async (
  options: WechatV2GatewayOptions,
  paymentId: string,
  signal: AbortSignal,
): Promise<ChannelCallResult<ChannelOrderStatus>> => {
  const answer = await post(
    options,
    '/pay/orderquery',
    { out_trade_no: channelOrderNoOf(paymentId) },
    signal,
  );
  if (!answer.ok) return answer;
  const status = TRADE_STATES[answer.value['trade_state'] ?? ''];
  if (
    status === undefined ||
    paymentIdFromOrderNo(answer.value['out_trade_no'] ?? '') !== paymentId
  )
    return { ok: false, kind: 'permanent', reason: 'unexpected orderquery answer' };
  const totalFee = Number(answer.value['total_fee'] ?? Number.NaN);
  const paid = status === 'succeeded' && Number.isSafeInteger(totalFee);
  return {
    ok: true,
    value: {
      status,
      channelTransactionId: answer.value['transaction_id'] ?? null,
      amountMinor: paid ? totalFee : null,
      currency: paid ? (answer.value['fee_type'] ?? 'CNY') : null,
      paidAt: paid ? wechatCompactTime(answer.value['time_end']) : null,
    },
  };
};

/** refundquery by out_refund_no: the refund's entry among the answer's numbered fields. */
const queryRefund = async (
  options: WechatV2GatewayOptions,
  refundId: string,
  signal: AbortSignal,
): Promise<ChannelCallResult<ChannelRefundStatus>> => {
  const answer = await post(options, '/pay/refundquery', { out_refund_no: refundId }, signal);
  if (!answer.ok)
    return answer.reason.startsWith('REFUNDNOTEXIST:')
      ? { ok: true, value: { status: 'unknown' } }
      : answer;
  const count = Number(answer.value['refund_count'] ?? '0');
  for (let index = 0; Number.isSafeInteger(count) && index < count; index += 1) {
    if (answer.value[`out_refund_no_${index}`] !== refundId) continue;
    const state = answer.value[`refund_status_${index}`] ?? '';
    const status = REFUND_STATES[state];
    if (status === undefined) break;
    if (status === 'succeeded')
      return {
        ok: true,
        value: { status, channelRefundId: answer.value[`refund_id_${index}`] ?? refundId },
      };
    return {
      ok: true,
      value: status === 'failed' ? { status, failureReason: `refund_status ${state}` } : { status },
    };
  }
  return { ok: false, kind: 'permanent', reason: 'unexpected refundquery answer' };
};

/**
 * WeChat Pay API v2 (XML over HTTPS): unifiedorder (NATIVE), orderquery, closeorder, refund,
 * refundquery.
 */
export const createWechatV2Gateway = (options: WechatV2GatewayOptions): RawChannelGateway => ({
  channel: 'wechat',
  createOrder: async (order, signal) => {
    if (order.currency !== 'CNY')
      return { ok: false, kind: 'permanent', reason: 'WeChat Pay v2 takes CNY only' };
    const params = {
      body: order.subject,
      out_trade_no: channelOrderNoOf(order.paymentId),
      total_fee: order.amountMinor.toString(),
      fee_type: 'CNY',
      spbill_create_ip: '127.0.0.1',
      time_expire: beijingCompact(order.expiresAt),
      notify_url: options.notifyUrl,
      trade_type: 'NATIVE',
    };
    const answer = await post(options, '/pay/unifiedorder', params, signal);
    if (!answer.ok) return answer;
    return {
      ok: true,
      value: {
        payerParameters: {
          codeUrl: answer.value['code_url'] ?? '',
          prepayId: answer.value['prepay_id'] ?? '',
        },
      },
    };
  },
  queryOrder: (paymentId, signal) => queryOrder(options, paymentId, signal),
  queryRefund: (query, signal) => queryRefund(options, query.refundId, signal),
  closeOrder: async (paymentId, signal) => {
    const answer = await post(
      options,
      '/pay/closeorder',
      { out_trade_no: channelOrderNoOf(paymentId) },
      signal,
    );
    return answer.ok ? { ok: true, value: { closed: true } } : answer;
  },
  refund: async (request, signal) => {
    // v2 refunds need the order's total: ask the channel rather than trust a caller's copy.
    const order = await queryOrder(options, request.paymentId, signal);
    if (!order.ok) return order;
    if (order.value.amountMinor === null)
      return { ok: false, kind: 'permanent', reason: 'the order is not paid' };
    const params = {
      out_trade_no: channelOrderNoOf(request.paymentId),
      out_refund_no: request.refundId,
      total_fee: order.value.amountMinor.toString(),
      refund_fee: request.amountMinor.toString(),
      notify_url: options.notifyUrl,
    };
    const answer = await post(options, '/secapi/pay/refund', params, signal, true);
    if (!answer.ok) return answer;
    return {
      ok: true,
      value: { status: 'accepted', channelRefundId: answer.value['refund_id'] ?? null },
    };
  },
});
