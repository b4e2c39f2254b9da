import type { KeyObject } from 'node:crypto';
import type {
  ChannelCallbackVerifier,
  ChannelNotification,
} from '../../../domain/ports/channel-callback.port';
import { decimalToMinor } from '../../../domain/payment/decimal-amount';
import { paymentIdFromOrderNo } from '../../../domain/payment/payment-id';
import { STALE, isWithinWindow, refuse } from '../callback-window';
import { alipaySpacedTime, paidAtOf } from '../channel-paid-time';
import { alipayNotificationBase, alipayTimeMs, verifyAlipayText } from './alipay.sign';

type AlipayVerifierOptions = { appId: string; alipayPublicKey: KeyObject };

const PARAM_COUNT_MAX = 64;
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/;

/** Form parameters, or null when malformed (duplicates, too many, not UTF-8 form text). */
const parseForm = (rawBody: Buffer): Map<string, string> | null => {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(rawBody);
  } catch {
    return null;
  }
  // A form body is URL-encoded ASCII pairs `name=value` joined by `&`.
  if (!/^[A-Za-z0-9_]+=[\x21-\x25\x27-\x7e]*(&[A-Za-z0-9_]+=[\x21-\x25\x27-\x7e]*)*$/.test(text))
    return null;
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (params.has(name) || params.size >= PARAM_COUNT_MAX) return null;
    params.set(name, value);
  }
  return params;
};

/** Alipay asynchronous notifications (application/x-www-form-urlencoded), RSA2 only. */
export const createAlipayVerifier = (options: AlipayVerifierOptions): ChannelCallbackVerifier => ({
  channel: 'alipay',
  acknowledge: (accepted) => ({
    contentType: 'text/plain; charset=utf-8',
    body: accepted ? 'success' : 'failure',
  }),
  verify(rawBody, _headers, nowMs) {
    const params = parseForm(rawBody);
    if (params === null) return refuse('malformed_callback', 'body is not a well-formed form');
    const signature = params.get('sign') ?? '';
    if (params.get('sign_type') !== 'RSA2')
      return refuse(
        'invalid_signature',
        `sign_type ${params.get('sign_type') ?? '(none)'} is not accepted`,
      );
    const signatureBytes = BASE64_PATTERN.test(signature)
      ? Buffer.from(signature, 'base64')
      : Buffer.alloc(0);
    if (
      signatureBytes.length * 8 !==
      (options.alipayPublicKey.asymmetricKeyDetails?.modulusLength ?? 0)
    ) {
      return refuse('invalid_signature', 'sign is missing, truncated or malformed');
    }
    if (!verifyAlipayText(alipayNotificationBase(params), signatureBytes, options.alipayPublicKey))
      return refuse('invalid_signature', 'sign does not verify');
    if (params.get('app_id') !== options.appId)
      return refuse('invalid_signature', 'app_id is not this application');
    const notifiedAtMs = alipayTimeMs(params.get('notify_time') ?? '');
    if (Number.isNaN(notifiedAtMs))
      return refuse('malformed_callback', 'notify_time missing or malformed');
    if (!isWithinWindow(notifiedAtMs, nowMs)) return STALE;
    const notifyId = params.get('notify_id') ?? '';
    if (notifyId === '') return refuse('malformed_callback', 'notify_id missing');
    const notification = toNotification(params);
    return typeof notification === 'string'
      ? refuse('malformed_callback', notification)
      : { ok: true, notification, replayKey: notifyId };
  },
});

const toNotification = (params: ReadonlyMap<string, string>): ChannelNotification | string => {
  const paymentId = paymentIdFromOrderNo(params.get('out_trade_no') ?? '');
  const channelTransactionId = params.get('trade_no') ?? '';
  if (paymentId === null || channelTransactionId === '')
    return 'out_trade_no or trade_no is invalid';
  const refundId = params.get('out_biz_no');
  if (refundId !== undefined && params.get('gmt_refund') !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(refundId)) return 'out_biz_no is invalid';
    return {
      kind: 'refund',
      outcome: 'succeeded',
      paymentId,
      refundId,
      channelRefundId: `${channelTransactionId}:${refundId}`,
    };
  }
  const status = params.get('trade_status');
  if (status === 'TRADE_CLOSED')
    return {
      kind: 'payment',
      outcome: 'failed',
      paymentId,
      channelTransactionId,
      failureReason: 'trade closed',
    };
  if (status !== 'TRADE_SUCCESS' && status !== 'TRADE_FINISHED')
    return `trade_status '${status ?? ''}' is not a payment outcome`;
  const amountMinor = decimalToMinor(params.get('total_amount') ?? '', 2);
  if (amountMinor === null || amountMinor === 0) return 'total_amount is invalid';
  return {
    kind: 'payment',
    outcome: 'succeeded',
    paymentId,
    channelTransactionId,
    amountMinor,
    currency: 'CNY',
    ...paidAtOf(alipaySpacedTime(params.get('gmt_payment'))),
  };
};
