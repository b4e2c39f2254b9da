import type { Aggregate } from '../aggregate';
import { assert } from '../assert';
import { accept, reject } from '../decision';
import { isCurrency, isPositiveAmountMinor } from '../money';
import { instantMs } from './instant';
import { decideChannelResult } from './payment-channel.decide';
import { decideRefundRequest, decideRefundResult } from './payment-refund.decide';
import { evolvePayment } from './payment.evolve';
import { paymentEventCodec } from './payment.events';
import {
  paymentChannels,
  paymentTermFields,
  type PaymentCommand,
  type PaymentDecision,
  type PaymentEvent,
  type PaymentRejection,
  type PaymentState,
} from './payment.model';

export * from './payment.model';
export { paymentView } from './payment.view';

const decidePayment = (command: PaymentCommand, state: PaymentState): PaymentDecision => {
  switch (command.type) {
    case 'CreatePayment':
      return decideCreate(command.data, state);
    case 'RecordChannelResult':
      return decideChannelResult(command.data, state);
    case 'ClosePayment':
      return decideClose(command.data, state);
    case 'ExpirePayment':
      return decideExpire(command.data.now, state);
    case 'RequestRefund':
      return decideRefundRequest(command.data, state);
    case 'RecordRefundResult':
      return decideRefundResult(command.data, state);
  }
};

export const paymentAggregate: Aggregate<
  PaymentCommand,
  PaymentEvent,
  PaymentState,
  PaymentRejection
> = {
  category: 'payment',
  initialState: { status: 'none' },
  decide: decidePayment,
  evolve: evolvePayment,
  eventCodec: paymentEventCodec,
};

const decideCreate = (
  data: Extract<PaymentCommand, { type: 'CreatePayment' }>['data'],
  state: PaymentState,
): PaymentDecision => {
  assert(isPositiveAmountMinor(data.amountMinor), 'CreatePayment: amountMinor must be positive');
  assert(isCurrency(data.currency), `CreatePayment: unknown currency ${data.currency}`);
  assert(paymentChannels.includes(data.channel), `CreatePayment: unknown channel ${data.channel}`);
  if (state.status !== 'none') {
    // A retry with the same terms is answered as a success; anything else is another order.
    const field = paymentTermFields.find((name) => state[name] !== data[name]);
    return field === undefined ? accept() : reject('payment_already_exists', { field });
  }
  const { now, ...terms } = data;
  if (instantMs(terms.expiresAt, 'expiresAt') <= instantMs(now, 'now')) {
    return reject('expiry_not_in_future');
  }
  return accept({ type: 'PaymentCreated', data: { ...terms, createdAt: now } });
};

const decideClose = (
  data: { reason: string; now: string },
  state: PaymentState,
): PaymentDecision => {
  switch (state.status) {
    case 'none':
      return reject('payment_not_found');
    case 'pending':
      return accept({ type: 'PaymentClosed', data: { reason: data.reason, closedAt: data.now } });
    case 'closed':
      return accept();
    case 'succeeded':
      return reject('payment_already_succeeded');
    case 'failed':
    case 'expired':
      return reject('payment_not_pending');
  }
};

/** Run by a timer at or after expiresAt; an early run (clock skew, early timer) is refused. */
const decideExpire = (now: string, state: PaymentState): PaymentDecision => {
  switch (state.status) {
    case 'none':
      return reject('payment_not_found');
    case 'pending':
      if (instantMs(now, 'now') < instantMs(state.expiresAt, 'expiresAt')) {
        return reject('payment_not_expired_yet', { expiresAt: state.expiresAt });
      }
      return accept({ type: 'PaymentExpired', data: { expiredAt: now } });
    case 'expired':
      return accept();
    case 'succeeded':
    case 'failed':
    case 'closed':
      return reject('payment_not_pending');
  }
};
