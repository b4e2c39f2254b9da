import type { KeyObject } from 'node:crypto';
import { decimalToMinor, minorToDecimal } from '../../../domain/payment/decimal-amount';
import { channelOrderNoOf } from '../../../domain/payment/payment-id';
import type {
  ChannelCallResult,
  ChannelOrderStatus,
} from '../../../domain/ports/payment-channel.port';
import { httpCall, isTransientStatus } from '../http-call';
import type { RawChannelGateway } from '../resilient-gateway';
import { alipayTimeOf, createAlipayClient } from './alipay.sign';
import { alipaySpacedTime } from '../channel-paid-time';

type AlipayGatewayOptions = {
  /** https://openapi.alipay.com/gateway.do in production. */
  gatewayUrl: string;
  appId: string;
  notifyUrl: string;
  appPrivateKey: KeyObject;
  alipayPublicKey: KeyObject;
  nowMs: () => number;
};

type Json = Record<string, unknown>;
const TRADE_STATES: Readonly<Record<string, ChannelOrderStatus['status']>> = {
  WAIT_BUYER_PAY: 'pending',
  TRADE_SUCCESS: 'succeeded',
  TRADE_FINISHED: 'succeeded',
  TRADE_CLOSED: 'closed',
};

/** Alipay open platform: trade precreate (QR), query, close, refund and its query; RSA2 both ways. */
export const createAlipayGateway = (options: AlipayGatewayOptions): RawChannelGateway => {
  const client = createAlipayClient(options);
  const invoke = async (
    method: string,
    bizContent: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<ChannelCallResult<Json>> => {
    const body = client.signedForm({
      method,
      notifyUrl: options.notifyUrl,
      bizContent,
      nowMs: options.nowMs(),
    });
    const answer = await httpCall({
      method: 'POST',
      url: options.gatewayUrl,
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body,
      signal,
      clientCertificate: null,
    });
    if (isTransientStatus(answer.status))
      return { ok: false, kind: 'transient', reason: `HTTP ${answer.status}` };
    const nodeText = client.verifiedResponseNode(answer.body, method);
    if (nodeText === null)
      return { ok: false, kind: 'permanent', reason: 'answer signature does not verify' };
    let node: Json;
    try {
      node = JSON.parse(nodeText) as Json;
    } catch {
      return { ok: false, kind: 'permanent', reason: 'answer is not JSON' };
    }
    if (node['code'] === '10000') return { ok: true, value: node };
    const subCode = String(node['sub_code'] ?? '');
    const transient = node['code'] === '20000' || subCode === 'ACQ.SYSTEM_ERROR';
    return {
      ok: false,
      kind: transient ? 'transient' : 'permanent',
      reason: `${String(node['code'])} ${subCode}: ${String(node['sub_msg'] ?? node['msg'] ?? '')}`,
    };
  };

  return {
    channel: 'alipay',
    createOrder: async (order, signal) => {
      if (order.currency !== 'CNY')
        return { ok: false, kind: 'permanent', reason: 'Alipay takes CNY only' };
      const biz = {
        out_trade_no: channelOrderNoOf(order.paymentId),
        total_amount: minorToDecimal(order.amountMinor, 2),
        subject: order.subject,
        time_expire: alipayTimeOf(Date.parse(order.expiresAt)),
      };
      const answer = await invoke('alipay.trade.precreate', biz, signal);
      return answer.ok
        ? {
            ok: true,
            value: { payerParameters: { qrCode: String(answer.value['qr_code'] ?? '') } },
          }
        : answer;
    },
    queryOrder: async (paymentId, signal) => {
      const answer = await invoke(
        'alipay.trade.query',
        { out_trade_no: channelOrderNoOf(paymentId) },
        signal,
      );
      if (!answer.ok) return answer;
      const status = TRADE_STATES[String(answer.value['trade_status'])];
      if (status === undefined)
        return { ok: false, kind: 'permanent', reason: 'unexpected trade_status' };
      const amountMinor =
        status === 'succeeded' ? decimalToMinor(String(answer.value['total_amount']), 2) : null;
      const transactionId =
        typeof answer.value['trade_no'] === 'string' ? answer.value['trade_no'] : null;
      return {
        ok: true,
        value: {
          status,
          channelTransactionId: transactionId,
          amountMinor,
          currency: amountMinor === null ? null : 'CNY',
          paidAt: amountMinor === null ? null : alipaySpacedTime(answer.value['send_pay_date']),
        },
      };
    },
    closeOrder: async (paymentId, signal) => {
      const answer = await invoke(
        'alipay.trade.close',
        { out_trade_no: channelOrderNoOf(paymentId) },
        signal,
      );
      return answer.ok ? { ok: true, value: { closed: true } } : answer;
    },
    queryRefund: async (query, signal) => {
      const biz = {
        out_trade_no: channelOrderNoOf(query.paymentId),
        out_request_no: query.refundId,
      };
      const answer = await invoke('alipay.trade.fastpay.refund.query', biz, signal);
      if (!answer.ok) return answer;
      // Alipay refunds synchronously: a refund it returns (refund_status empty or REFUND_SUCCESS)
      // succeeded, one it does not return never happened and may be requested again.
      const found = answer.value['out_request_no'] === query.refundId;
      const refundStatus = answer.value['refund_status'];
      if (!found || (refundStatus !== undefined && refundStatus !== 'REFUND_SUCCESS'))
        return { ok: true, value: { status: 'unknown' } };
      const tradeNo = String(answer.value['trade_no'] ?? query.channelTransactionId);
      return {
        ok: true,
        value: { status: 'succeeded', channelRefundId: `${tradeNo}:${query.refundId}` },
      };
    },
    refund: async (request, signal) => {
      const biz = {
        out_trade_no: channelOrderNoOf(request.paymentId),
        refund_amount: minorToDecimal(request.amountMinor, 2),
        out_request_no: request.refundId,
      };
      const answer = await invoke('alipay.trade.refund', biz, signal);
      if (!answer.ok) return answer;
      // Alipay refunds synchronously: fund_change Y means the money moved now.
      const channelRefundId = `${String(answer.value['trade_no'] ?? request.channelTransactionId)}:${request.refundId}`;
      return {
        ok: true,
        value: {
          status: answer.value['fund_change'] === 'Y' ? 'succeeded' : 'accepted',
          channelRefundId,
        },
      };
    },
  };
};
