import { versionedEventCodec, type Aggregate, type EventCodec } from '../aggregate';
import { AssertionError } from '../assert';
import { accept } from '../decision';
import {
  countField,
  nullableStringField,
  numberField,
  oneOfField,
  stringField,
} from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';
import { flagReasons } from './payment.events';
import type { FlagReason } from './payment.model';

/**
 * Stream channellog-<paymentId> (or channellog-<uuid> for a refused callback that names no
 * trustworthy payment): what happened between us and a payment channel. An append-only log:
 * every command is a fact to keep, so nothing is ever refused.
 */
export type ChannelOperation =
  'create_order' | 'query_order' | 'close_order' | 'refund' | 'query_refund';

export type ChannelCallRecorded = {
  channel: string;
  operation: ChannelOperation;
  paymentId: string;
  refundId: string | null;
  outcome: 'succeeded' | 'transient' | 'permanent';
  reason: string | null;
  attemptCount: number;
  durationMs: number;
};

export type ChannelCallbackRefused = {
  channel: string;
  /** An error name of the API (invalid_signature, stale_signature, ...) or 'replayed'. */
  refusal: string;
  detail: string;
  status: number;
  paymentId: string | null;
  requestId: string;
};

/** A channel reported money that must not be credited: someone has to refund it. */
export type ChannelAlertRaised = {
  channel: string;
  paymentId: string;
  reason: FlagReason;
  channelTransactionId: string;
  amountMinor: number;
  currency: string;
};

export type ChannelLogEvent =
  | { type: 'ChannelCallRecorded'; data: ChannelCallRecorded }
  | { type: 'ChannelCallbackRefused'; data: ChannelCallbackRefused }
  | { type: 'ChannelAlertRaised'; data: ChannelAlertRaised };

type ChannelLogCommand = { type: 'RecordChannelFact'; data: ChannelLogEvent };

type ChannelLogState = { eventCount: number };

const OPERATIONS = [
  'create_order',
  'query_order',
  'close_order',
  'refund',
  'query_refund',
] as const satisfies readonly ChannelOperation[];
const OUTCOMES = ['succeeded', 'transient', 'permanent'] as const;

/** The channel log's facts as stored: version 1, every field checked on read. */
const parseChannelLogEvent = (type: string, data: JsonObject): ChannelLogEvent => {
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

const channelLogEventCodec: EventCodec<ChannelLogEvent> = versionedEventCodec({
  upcasters: [],
  encode: (event) => event.data,
  parse: parseChannelLogEvent,
});

export const channelLogAggregate: Aggregate<
  ChannelLogCommand,
  ChannelLogEvent,
  ChannelLogState,
  never
> = {
  category: 'channellog',
  initialState: { eventCount: 0 },
  decide: (command) => accept(command.data),
  evolve: (state) => ({ eventCount: state.eventCount + 1 }),
  eventCodec: channelLogEventCodec,
};
