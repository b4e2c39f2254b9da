import {
  afterCloseOrder,
  afterQueryOrder,
  type CloseOutcome,
} from '../../domain/payment/channel-truth';
import { paymentView } from '../../domain/payment/payment.view';
import { recoverPaidPayment } from '../../domain/payment/recover-paid-payment';
import type { PaymentChannelGateway } from '../../domain/ports/payment-channel.port';
import { commandContext } from '../command-context';
import { sendError } from '../envelope';
import { errorCodes } from '../error-codes';
import type { RouteMiddleware } from '../middleware/api-state';
import { positionJson, type LedgerServices } from './ledger-services';

type Ctx = Parameters<RouteMiddleware>[0];

/**
 * Closing a payment closes its channel order first (the channel is the source of truth): the
 * order closed there, the ledger may close; refused, the channel is asked why (paid: credit the
 * payment instead; still payable: close nothing); no answer: close nothing. The rules are the
 * pure ones of domain/payment/channel-truth; this only makes the calls they ask for.
 */
const closeAtChannel = async (
  gateway: PaymentChannelGateway,
  paymentId: string,
): Promise<CloseOutcome> => {
  const closed = afterCloseOrder(await gateway.closeOrder(paymentId));
  if (closed.kind !== 'query_channel') return closed;
  return afterQueryOrder(await gateway.queryOrder(paymentId));
};

/**
 * True when the ledger may close the payment now. False when it must not, answered here: the
 * channel did not answer (503), kept the order payable (502), or reported it paid, which credits
 * the payment instead (409 payment_already_succeeded, `recovered: true`).
 */
export const closedAtChannel = async (
  ctx: Ctx,
  services: LedgerServices,
  gateway: PaymentChannelGateway,
  paymentId: string,
): Promise<boolean> => {
  const outcome = await closeAtChannel(gateway, paymentId);
  if (outcome.kind === 'close_ledger') return true;
  if (outcome.kind !== 'credit') {
    const name = outcome.kind === 'unavailable' ? 'channel_unavailable' : 'channel_refused';
    const msg = `${errorCodes[name].msg}; the payment was not closed`;
    sendError(ctx, name, { msg, data: { paymentId, reason: outcome.reason } });
    return false;
  }
  const context = commandContext(ctx, services.nowMs());
  const { runtime } = services;
  const recovered = await recoverPaidPayment(runtime, paymentId, outcome.order, context);
  // Flagged instead (another amount, paid after expiresAt): the order is paid, not payable, so
  // the ledger may close; the flag stays for the refund.
  if (recovered === null || !recovered.ok || recovered.state.status !== 'succeeded') return true;
  sendError(ctx, 'payment_already_succeeded', {
    msg: 'the channel reports the order paid: the payment was credited, not closed',
    data: {
      paymentId,
      payment: paymentView(recovered.state),
      position: positionJson(recovered.position),
    },
  });
  return false;
};
