import type { ActorRuntime, CommandContext, CommandOutcome } from '../actors/actor-runtime';
import type { ChannelOrderStatus } from '../ports/payment-channel.port';
import { paidOrderOf } from './channel-truth';
import { paymentAggregate } from './payment.decider';
import type { PaymentRejection, PaymentState } from './payment.model';

/**
 * The one way a payment the channel reports paid on query (its notification never came) enters
 * the ledger: as if the notification had arrived (`RecordChannelResult`, dated by the channel's
 * paid time), flagged `recovered`. The close route, the expiry saga and the daily reconciliation
 * use it; the payment decider judges it like any notification (paid in time: credited; late,
 * another amount, or a second transaction: flagged). Null when the order is not paid there.
 * A retry with the same context changes nothing: the decider dedupes by transaction id.
 */
export const recoverPaidPayment = async (
  runtime: ActorRuntime,
  paymentId: string,
  order: ChannelOrderStatus,
  context: CommandContext,
): Promise<CommandOutcome<PaymentState, PaymentRejection> | null> => {
  const paid = paidOrderOf(order);
  if (paid === null) return null;
  const command = { type: 'RecordChannelResult', data: { ...paid, now: context.now } } as const;
  return runtime.execute(paymentAggregate, paymentId, command, context);
};
