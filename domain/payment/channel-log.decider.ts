import type { Aggregate } from '../aggregate';
import { accept } from '../decision';
import { channelLogEventCodec } from './channel-log.events';
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
