import { versionedEventCodec, type EventCodec } from '../aggregate';
import { assert, AssertionError } from '../assert';
import { countField, oneOfField, optionalField, stringField } from '../json-fields';
import { parseSealedHolder } from '../personal-data/holder';
import type { JsonObject } from '../ports/event-store.port';
import { modes } from '../mode/mode';
import {
  paymentChannels,
  type FlagReason,
  type PaymentEvent,
  type PaymentTerms,
} from './payment.model';

export const flagReasons = [
  'amount_mismatch',
  'currency_mismatch',
  'paid_twice',
  'paid_after_close',
] as const satisfies readonly FlagReason[];

/**
 * The payment's events as stored: version 1, every field checked on read. Each field is read in
 * one line below; an optional field (absent from events written before it existed) is read with
 * `optionalField`, so adding one is that line and its type. A field that changes meaning or
 * becomes required instead gets an upcaster (domain/aggregate.ts, versionedEventCodec) that
 * fills it into the older versions' data.
 */
const termsOf = (data: JsonObject): PaymentTerms => ({
  paymentId: stringField(data, 'paymentId'),
  merchantId: stringField(data, 'merchantId'),
  merchantOrderNo: stringField(data, 'merchantOrderNo'),
  amountMinor: countField(data, 'amountMinor'),
  currency: stringField(data, 'currency'),
  channel: oneOfField(data, 'channel', paymentChannels),
  subject: stringField(data, 'subject'),
  creditAccountId: stringField(data, 'creditAccountId'),
  expiresAt: stringField(data, 'expiresAt'),
  ...optionalField(data, 'notifyUrl', stringField),
  ...optionalField(data, 'returnUrl', stringField),
  ...optionalField(data, 'description', stringField),
  ...optionalField(data, 'mode', (object, name) => oneOfField(object, name, modes)),
});

/** A flag recorded only when set (`recovered`): true or absent, never false. */
const trueField = (object: JsonObject, name: string): true => {
  assert(object[name] === true, `${name}: must be true when present`);
  return true;
};

const refundAmountOf = (data: JsonObject): { refundId: string; amountMinor: number } => ({
  refundId: stringField(data, 'refundId'),
  amountMinor: countField(data, 'amountMinor'),
});

const parse = (type: string, data: JsonObject): PaymentEvent => {
  switch (type) {
    case 'PaymentCreated':
      return {
        type,
        data: {
          ...termsOf(data),
          createdAt: stringField(data, 'createdAt'),
          ...optionalField(data, 'holder', (object, name) => parseSealedHolder(object[name])),
        },
      };
    case 'PaymentSucceeded':
      return {
        type,
        data: {
          channelTransactionId: stringField(data, 'channelTransactionId'),
          amountMinor: countField(data, 'amountMinor'),
          currency: stringField(data, 'currency'),
          paidAt: stringField(data, 'paidAt'),
          ...optionalField(data, 'channelPaidAt', stringField),
          ...optionalField(data, 'recovered', trueField),
        },
      };
    case 'PaymentFlagged':
      return {
        type,
        data: {
          reason: oneOfField(data, 'reason', flagReasons),
          channelTransactionId: stringField(data, 'channelTransactionId'),
          amountMinor: countField(data, 'amountMinor'),
          currency: stringField(data, 'currency'),
          flaggedAt: stringField(data, 'flaggedAt'),
          ...optionalField(data, 'channelPaidAt', stringField),
        },
      };
    case 'PaymentFailed':
      return {
        type,
        data: {
          channelTransactionId: stringField(data, 'channelTransactionId'),
          failureReason: stringField(data, 'failureReason'),
          failedAt: stringField(data, 'failedAt'),
        },
      };
    case 'PaymentClosed':
      return {
        type,
        data: { reason: stringField(data, 'reason'), closedAt: stringField(data, 'closedAt') },
      };
    case 'PaymentExpired':
      return { type, data: { expiredAt: stringField(data, 'expiredAt') } };
    case 'RefundRequested':
      return {
        type,
        data: {
          ...refundAmountOf(data),
          reason: stringField(data, 'reason'),
          requestedAt: stringField(data, 'requestedAt'),
        },
      };
    case 'RefundSucceeded':
      return {
        type,
        data: {
          ...refundAmountOf(data),
          channelRefundId: stringField(data, 'channelRefundId'),
          succeededAt: stringField(data, 'succeededAt'),
        },
      };
    case 'RefundFailed':
      return {
        type,
        data: {
          ...refundAmountOf(data),
          failureReason: stringField(data, 'failureReason'),
          failedAt: stringField(data, 'failedAt'),
        },
      };
    default:
      throw new AssertionError(`payment: unknown event type ${type}`);
  }
};

export const paymentEventCodec: EventCodec<PaymentEvent> = versionedEventCodec({
  upcasters: [],
  encode: (event) => event.data,
  parse,
});
