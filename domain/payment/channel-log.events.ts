import { versionedEventCodec, type EventCodec } from '../aggregate';
import { AssertionError } from '../assert';
import {
  countField,
  nullableStringField,
  numberField,
  oneOfField,
  stringField,
} from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';
import type { ChannelLogEvent, ChannelOperation } from './channel-log.decider';
import { flagReasons } from './payment.events';

const OPERATIONS = [
  'create_order',
  'query_order',
  'close_order',
  'refund',
  'query_refund',
] as const satisfies readonly ChannelOperation[];
const OUTCOMES = ['succeeded', 'transient', 'permanent'] as const;

/** The channel log's facts as stored: version 1, every field checked on read. */
const parse = (type: string, data: JsonObject): ChannelLogEvent => {
  switch (type) {
    case 'ChannelCallRecorded':
      return {
        type,
        data: {
          channel: stringField(data, 'channel'),
          operation: oneOfField(data, 'operation', OPERATIONS),
          paymentId: stringField(data, 'paymentId'),
          refundId: nullableStringField(data, 'refundId'),
          outcome: oneOfField(data, 'outcome', OUTCOMES),
          reason: nullableStringField(data, 'reason'),
          attemptCount: countField(data, 'attemptCount'),
          // Measured on the wall clock, which may step back: any number is kept as measured.
          durationMs: numberField(data, 'durationMs'),
        },
      };
    case 'ChannelCallbackRefused':
      return {
        type,
        data: {
          channel: stringField(data, 'channel'),
          refusal: stringField(data, 'refusal'),
          detail: stringField(data, 'detail'),
          status: countField(data, 'status'),
          paymentId: nullableStringField(data, 'paymentId'),
          requestId: stringField(data, 'requestId'),
        },
      };
    case 'ChannelAlertRaised':
      return {
        type,
        data: {
          channel: stringField(data, 'channel'),
          paymentId: stringField(data, 'paymentId'),
          reason: oneOfField(data, 'reason', flagReasons),
          channelTransactionId: stringField(data, 'channelTransactionId'),
          amountMinor: countField(data, 'amountMinor'),
          currency: stringField(data, 'currency'),
        },
      };
    default:
      throw new AssertionError(`channellog: unknown event type ${type}`);
  }
};

export const channelLogEventCodec: EventCodec<ChannelLogEvent> = versionedEventCodec({
  upcasters: [],
  encode: (event) => event.data,
  parse,
});
