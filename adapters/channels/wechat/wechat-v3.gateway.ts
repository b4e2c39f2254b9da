import { randomBytes, type KeyObject } from 'node:crypto';
import { channelOrderNoOf } from '../../../domain/payment/payment-id';
import type {
  ChannelCallResult,
  ChannelOrderStatus,
  ChannelRefundStatus,
} from '../../../domain/ports/payment-channel.port';
import { isWithinWindow } from '../callback-window';
import { rfc3339Time } from '../channel-paid-time';
import { httpCall, isTransientStatus, type HttpAnswer } from '../http-call';
import type { RawChannelGateway } from '../resilient-gateway';
import { signSha256Rsa, signatureMessage, verifySha256Rsa } from './wechat-v3.crypto';

type WechatV3GatewayOptions = {
  baseUrl: string;
  appId: string;
  mchId: string;
  notifyUrl: string;
  merchantPrivateKey: KeyObject;
  merchantSerialNo: string;
  platformKeys: ReadonlyMap<string, KeyObject>;
  nowMs: () => number;
};

type Json = Record<string, unknown>;
const TRADE_STATES: Readonly<Record<string, ChannelOrderStatus['status']>> = {
  SUCCESS: 'succeeded',
  REFUND: 'succeeded',
  NOTPAY: 'pending',
  USERPAYING: 'pending',
  CLOSED: 'closed',
  REVOKED: 'closed',
  PAYERROR: 'failed',
};

/** Answers are signed like notifications; an unsigned or forged answer is never believed. */
const answerVerifies = (options: WechatV3GatewayOptions, answer: HttpAnswer): boolean => {
  const timestamp = answer.headers['wechatpay-timestamp'] ?? '';
  const key = options.platformKeys.get(answer.headers['wechatpay-serial'] ?? '');
  const message = Buffer.from(
    signatureMessage([timestamp, answer.headers['wechatpay-nonce'] ?? '', answer.body]),
  );
  const signature = Buffer.from(answer.headers['wechatpay-signature'] ?? '', 'base64');
  return (
    key !== undefined &&
    /^\d{1,12}$/.test(timestamp) &&
    isWithinWindow(Number(timestamp) * 1000, options.nowMs()) &&
    verifySha256Rsa(key, message, signature)
  );
};

const send = async (
  options: WechatV3GatewayOptions,
  method: 'GET' | 'POST',
  path: string,
  payload: Json | null,
  signal: AbortSignal,
): Promise<ChannelCallResult<Json>> => {
  const body = payload === null ? '' : JSON.stringify(payload);
  const timestamp = Math.floor(options.nowMs() / 1000).toString();
  const nonce = randomBytes(16).toString('hex');
  const signature = signSha256Rsa(
    options.merchantPrivateKey,
    signatureMessage([method, path, timestamp, nonce, body]),
  );
  const authorization = `WECHATPAY2-SHA256-RSA2048 mchid="${options.mchId}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${options.merchantSerialNo}"`;
  const headers = { authorization, accept: 'application/json', 'content-type': 'application/json' };
  const answer = await httpCall({
    method,
    url: `${options.baseUrl}${path}`,
    headers,
    body: payload === null ? null : body,
    signal,
    clientCertificate: null,
  });
  if (isTransientStatus(answer.status))
    return { ok: false, kind: 'transient', reason: `HTTP ${answer.status}` };
  if (!answerVerifies(options, answer))
    return {
      ok: false,
      kind: 'permanent',
      reason: `HTTP ${answer.status}: answer signature does not verify`,
    };
  let parsed: Json = {};
  try {
    parsed = answer.body === '' ? {} : (JSON.parse(answer.body) as Json);
  } catch {
    return { ok: false, kind: 'permanent', reason: 'answer is not JSON' };
  }
  if (answer.status >= 300) {
    const code = typeof parsed['code'] === 'string' ? parsed['code'] : `HTTP ${answer.status}`;
    return {
      ok: false,
      kind: code === 'SYSTEM_ERROR' ? 'transient' : 'permanent',
      reason: `${code}: ${String(parsed['message'] ?? '')}`,
    };
  }
  return { ok: true, value: parsed };
};

const orderPath = (paymentId: string): string =>
  `/v3/pay/transactions/out-trade-no/${channelOrderNoOf(paymentId)}`;

const queryOrder = async (
  options: WechatV3GatewayOptions,
  paymentId: string,
  signal: AbortSignal,
): Promise<ChannelCallResult<ChannelOrderStatus>> => {
  const answer = await send(
    options,
    'GET',
    `${orderPath(paymentId)}?mchid=${encodeURIComponent(options.mchId)}`,
    null,
    signal,
  );
  if (!answer.ok) return answer;
  const status = TRADE_STATES[String(answer.value['trade_state'])];
  if (status === undefined)
    return { ok: false, kind: 'permanent', reason: 'unexpected trade_state' };
  const amount = (answer.value['amount'] ?? {}) as Json;
  const paid = status === 'succeeded' && typeof amount['total'] === 'number';
  const transactionId =
    typeof answer.value['transaction_id'] === 'string' ? answer.value['transaction_id'] : null;
  return {
    ok: true,
    value: {
      status,
      channelTransactionId: transactionId,
      amountMinor: paid ? (amount['total'] as number) : null,
      currency: paid ? String(amount['currency'] ?? 'CNY') : null,
      paidAt: paid ? rfc3339Time(answer.value['success_time']) : null,
    },
  };
};

const REFUND_STATES: Readonly<Record<string, 'succeeded' | 'failed' | 'pending'>> = {
  SUCCESS: 'succeeded',
  PROCESSING: 'pending',
  CLOSED: 'failed',
  ABNORMAL: 'failed',
};

/** GET /v3/refund/domestic/refunds/{out_refund_no}; RESOURCE_NOT_EXISTS: the channel has none. */
const queryRefund = async (
  options: WechatV3GatewayOptions,
  refundId: string,
  signal: AbortSignal,
): Promise<ChannelCallResult<ChannelRefundStatus>> => {
  const path = `/v3/refund/domestic/refunds/${encodeURIComponent(refundId)}`;
  const answer = await send(options, 'GET', path, null, signal);
  if (!answer.ok)
    return answer.reason.startsWith('RESOURCE_NOT_EXISTS:')
      ? { ok: true, value: { status: 'unknown' } }
      : answer;
  const state = String(answer.value['status']);
  const status = REFUND_STATES[state];
  if (status === undefined) return { ok: false, kind: 'permanent', reason: 'unexpected status' };
  if (status === 'succeeded') {
    const channelRefundId = answer.value['refund_id'];
    return {
      ok: true,
      value: {
        status,
        channelRefundId: typeof channelRefundId === 'string' ? channelRefundId : refundId,
      },
    };
  }
  return {
    ok: true,
    value: status === 'failed' ? { status, failureReason: `refund ${state}` } : { status },
  };
};

/** WeChat Pay API v3 (JSON over HTTPS): native order, query, close, domestic refund and its query. */
export const createWechatV3Gateway = (options: WechatV3GatewayOptions): RawChannelGateway => ({
  channel: 'wechat',
  createOrder: async (order, signal) => {
    const payload = {
      appid: options.appId,
      mchid: options.mchId,
      description: order.subject,
      out_trade_no: channelOrderNoOf(order.paymentId),
      time_expire: order.expiresAt,
      notify_url: options.notifyUrl,
      amount: { total: order.amountMinor, currency: order.currency },
    };
    const answer = await send(options, 'POST', '/v3/pay/transactions/native', payload, signal);
    if (!answer.ok) return answer;
    return {
      ok: true,
      value: { payerParameters: { codeUrl: String(answer.value['code_url'] ?? '') } },
    };
  },
  queryOrder: (paymentId, signal) => queryOrder(options, paymentId, signal),
  queryRefund: (query, signal) => queryRefund(options, query.refundId, signal),
  closeOrder: async (paymentId, signal) => {
    const answer = await send(
      options,
      'POST',
      `${orderPath(paymentId)}/close`,
      { mchid: options.mchId },
      signal,
    );
    return answer.ok ? { ok: true, value: { closed: true } } : answer;
  },
  refund: async (request, signal) => {
    const order = await queryOrder(options, request.paymentId, signal);
    if (!order.ok) return order;
    if (order.value.amountMinor === null)
      return { ok: false, kind: 'permanent', reason: 'the order is not paid' };
    const payload = {
      out_trade_no: channelOrderNoOf(request.paymentId),
      out_refund_no: request.refundId,
      notify_url: options.notifyUrl,
      amount: {
        refund: request.amountMinor,
        total: order.value.amountMinor,
        currency: request.currency,
      },
    };
    const answer = await send(options, 'POST', '/v3/refund/domestic/refunds', payload, signal);
    if (!answer.ok) return answer;
    const refundId =
      typeof answer.value['refund_id'] === 'string' ? answer.value['refund_id'] : null;
    if (answer.value['status'] === 'ABNORMAL' || answer.value['status'] === 'CLOSED')
      return { ok: false, kind: 'permanent', reason: `refund ${String(answer.value['status'])}` };
    return {
      ok: true,
      value: {
        status: answer.value['status'] === 'SUCCESS' ? 'succeeded' : 'accepted',
        channelRefundId: refundId,
      },
    };
  },
});
