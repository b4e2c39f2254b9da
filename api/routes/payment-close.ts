import {
  afterCloseOrder,
  afterQueryOrder,
  type CloseOutcome,
} from '../../domain/payment/channel-truth';
import type { PaymentChannelGateway } from '../../domain/ports/payment-channel.port';

/**
 * Closing a payment closes its channel order first (the channel is the source of truth): the
 * order closed there, the ledger may close; refused, the channel is asked why (paid: credit the
 * payment instead; still payable: close nothing); no answer: close nothing. The rules are the
 * pure ones of domain/payment/channel-truth; this only makes the calls they ask for.
 */
export const closeAtChannel = async (
  gateway: PaymentChannelGateway,
  paymentId: string,
): Promise<CloseOutcome> => {
  const closed = afterCloseOrder(await gateway.closeOrder(paymentId));
  if (closed.kind !== 'query_channel') return closed;
  return afterQueryOrder(await gateway.queryOrder(paymentId));
};
