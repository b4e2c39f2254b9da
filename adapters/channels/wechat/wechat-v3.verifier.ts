import type { KeyObject } from 'node:crypto';
import type {
  ChannelCallbackVerifier,
  ChannelNotification,
  VerifyResult,
} from '../../../domain/ports/channel-callback.port';
import { isCurrency } from '../../../domain/money';
import { paymentIdFromOrderNo } from '../../../domain/payment/payment-id';
import { STALE, isWithinWindow, refuse } from '../callback-window';
import { paidAtOf, rfc3339Time } from '../channel-paid-time';
import {
  apiV3CipherKey,
  decryptResource,
  verifySha256Rsa,
  type EncryptedResource,
} from './wechat-v3.crypto';

type WechatV3VerifierOptions = {
  mchId: string;
  apiV3Key: string;
  /** Platform certificates' public keys by serial number. */
  platformKeys: ReadonlyMap<string, KeyObject>;
};

const SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';
const ACKNOWLEDGEMENT_TYPE = 'application/json';
/** The success answer never changes: written once. */
const ACCEPTED = {
  contentType: ACKNOWLEDGEMENT_TYPE,
  body: JSON.stringify({ code: 'SUCCESS', message: 'OK' }),
};
const NEWLINE = Buffer.from('\n');

/** The signature's bytes when it is canonical base64 (what WeChat sends), else empty. */
const signatureBytesOf = (signature: string): Buffer => {
  const bytes = Buffer.from(signature, 'base64');
  return bytes.length > 0 && bytes.toString('base64') === signature ? bytes : Buffer.alloc(0);
};

type Envelope = { id?: unknown; event_type?: unknown; resource?: Partial<EncryptedResource> };
type Options = { mchId: string; cipherKey: KeyObject };
type Resource = Record<string, unknown> & { amount?: { total?: unknown; currency?: unknown } };

/** WeChat Pay v3 notifications: headers, SHA256-RSA over `timestamp\nnonce\nbody\n`, GCM resource. */
export const createWechatV3Verifier = (
  options: WechatV3VerifierOptions,
): ChannelCallbackVerifier => {
  const resourceOptions = { mchId: options.mchId, cipherKey: apiV3CipherKey(options.apiV3Key) };
  return {
    channel: 'wechat-v3',
    acknowledge: (accepted, message) =>
      accepted
        ? ACCEPTED
        : { contentType: ACKNOWLEDGEMENT_TYPE, body: JSON.stringify({ code: 'FAIL', message }) },
    verify(rawBody, headers, nowMs) {
      const timestamp = headers['wechatpay-timestamp'] ?? '';
      const nonce = headers['wechatpay-nonce'] ?? '';
      const signature = headers['wechatpay-signature'] ?? '';
      const serial = headers['wechatpay-serial'] ?? '';
      const signatureType = headers['wechatpay-signature-type'] ?? SIGNATURE_TYPE;
      if (!/^\d{1,12}$/.test(timestamp) || nonce === '' || nonce.length > 64)
        return refuse(
          'invalid_signature',
          'Wechatpay-Timestamp or Wechatpay-Nonce missing or malformed',
        );
      if (signatureType !== SIGNATURE_TYPE)
        return refuse('invalid_signature', `signature type ${signatureType} is not accepted`);
      const key = options.platformKeys.get(serial);
      if (key === undefined)
        return refuse('invalid_signature', 'unknown platform certificate serial');
      const signatureBytes = signatureBytesOf(signature);
      if (signatureBytes.length * 8 !== (key.asymmetricKeyDetails?.modulusLength ?? 0))
        return refuse('invalid_signature', 'signature is truncated or malformed');
      if (!isWithinWindow(Number(timestamp) * 1000, nowMs)) return STALE;
      const message = Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), rawBody, NEWLINE]);
      if (!verifySha256Rsa(key, message, signatureBytes))
        return refuse('invalid_signature', 'signature does not verify');
      return parseEnvelope(rawBody, resourceOptions, `${timestamp}:${nonce}`);
    },
  };
};

const parseEnvelope = (rawBody: Buffer, options: Options, replayKey: string): VerifyResult => {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(rawBody.toString('utf8')) as Envelope;
  } catch {
    return refuse('malformed_callback', 'body is not valid JSON');
  }
  const resource = envelope.resource;
  if (
    typeof envelope !== 'object' ||
    envelope === null ||
    typeof resource !== 'object' ||
    resource === null
  )
    return refuse('malformed_callback', 'resource missing');
  if (
    resource.algorithm !== 'AEAD_AES_256_GCM' ||
    typeof resource.ciphertext !== 'string' ||
    typeof resource.nonce !== 'string'
  ) {
    return refuse('malformed_callback', 'resource is not AEAD_AES_256_GCM');
  }
  const plain = decryptResource(resource as EncryptedResource, options.cipherKey);
  if (plain === null)
    return refuse('invalid_signature', 'resource does not decrypt with the APIv3 key');
  let decrypted: Resource;
  try {
    decrypted = JSON.parse(plain) as Resource;
  } catch {
    return refuse('malformed_callback', 'resource is not valid JSON');
  }
  if (decrypted['mchid'] !== options.mchId)
    return refuse('invalid_signature', 'mchid is not this merchant');
  const notification = toNotification(String(envelope.event_type), decrypted);
  return typeof notification === 'string'
    ? refuse('malformed_callback', notification)
    : { ok: true, notification, replayKey };
};

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

const toNotification = (eventType: string, resource: Resource): ChannelNotification | string => {
  const paymentId = paymentIdFromOrderNo(text(resource['out_trade_no']));
  if (paymentId === null) return 'out_trade_no is not one of our payment ids';
  if (eventType === 'TRANSACTION.SUCCESS') {
    const channelTransactionId = text(resource['transaction_id']);
    const amountMinor = resource.amount?.total;
    const currency = text(resource.amount?.currency);
    if (
      channelTransactionId === '' ||
      typeof amountMinor !== 'number' ||
      !Number.isSafeInteger(amountMinor) ||
      amountMinor <= 0 ||
      !isCurrency(currency)
    ) {
      return 'transaction_id or amount is invalid';
    }
    if (resource['trade_state'] !== 'SUCCESS') return 'trade_state is not SUCCESS';
    return {
      kind: 'payment',
      outcome: 'succeeded',
      paymentId,
      channelTransactionId,
      amountMinor,
      currency,
      ...paidAtOf(rfc3339Time(resource['success_time'])),
    };
  }
  const refundId = text(resource['out_refund_no']);
  const channelRefundId = text(resource['refund_id']);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(refundId) || channelRefundId === '')
    return 'out_refund_no or refund_id is invalid';
  if (eventType === 'REFUND.SUCCESS')
    return { kind: 'refund', outcome: 'succeeded', paymentId, refundId, channelRefundId };
  if (eventType === 'REFUND.ABNORMAL' || eventType === 'REFUND.CLOSED') {
    return {
      kind: 'refund',
      outcome: 'failed',
      paymentId,
      refundId,
      failureReason: `refund ${text(resource['refund_status']).toLowerCase() || 'failed'}`,
    };
  }
  return `unknown event_type '${eventType}'`;
};
