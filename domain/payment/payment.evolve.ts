import { assert } from '../assert';
import { isPositiveAmountMinor } from '../money';
import { instantMs } from './instant';
import {
  findRefund,
  flagReason,
  hasFlag,
  refundableMinorOf,
  type PaymentEvent,
  type PaymentRecord,
  type PaymentRefund,
  type PaymentState,
  type RefundFailed,
  type RefundSucceeded,
} from './payment.model';

/** Folds one event; every assert pairs with a check in decide, so replay catches a bad stream. */
export const evolvePayment = (state: PaymentState, event: PaymentEvent): PaymentState => {
  switch (event.type) {
    case 'PaymentCreated': {
      assert(state.status === 'none', 'PaymentCreated: payment created twice');
      const { expiresAt, createdAt, amountMinor } = event.data;
      assert(isPositiveAmountMinor(amountMinor), 'PaymentCreated: amountMinor must be positive');
      assert(
        instantMs(expiresAt, 'expiresAt') > instantMs(createdAt, 'createdAt'),
        'PaymentCreated: expiresAt not after createdAt',
      );
      const empty = { refunds: {}, refundedMinor: 0, refundingMinor: 0, flags: [] };
      return { ...event.data, status: 'pending', ...empty };
    }
    case 'PaymentSucceeded': {
      assert(
        state.status === 'pending' || state.status === 'expired',
        `PaymentSucceeded: payment is ${state.status}`,
      );
      const { amountMinor, currency, channelPaidAt } = event.data;
      // Pairs with flagReason: only a success the channel dates by expiresAt pays an expired one.
      assert(
        flagReason(state, amountMinor, currency, channelPaidAt) === null,
        `PaymentSucceeded: a ${state.status} payment is not paid by this report`,
      );
      return { ...state, status: 'succeeded', paid: event.data };
    }
    case 'PaymentFlagged': {
      assert(state.status !== 'none', 'PaymentFlagged: payment not found');
      const { reason, channelTransactionId, amountMinor, currency, channelPaidAt } = event.data;
      assert(!hasFlag(state, reason, channelTransactionId), 'PaymentFlagged: flagged twice');
      assert(
        flagReason(state, amountMinor, currency, channelPaidAt) === reason,
        `PaymentFlagged: ${reason} does not fit a ${state.status} payment`,
      );
      return { ...state, flags: [...state.flags, event.data] };
    }
    case 'PaymentFailed':
      assert(state.status === 'pending', `PaymentFailed: payment is ${state.status}`);
      return { ...state, status: 'failed', failure: event.data };
    case 'PaymentClosed':
      assert(state.status === 'pending', `PaymentClosed: payment is ${state.status}`);
      return { ...state, status: 'closed', closure: event.data };
    case 'PaymentExpired': {
      assert(state.status === 'pending', `PaymentExpired: payment is ${state.status}`);
      const { expiredAt } = event.data;
      assert(
        instantMs(expiredAt, 'expiredAt') >= instantMs(state.expiresAt, 'expiresAt'),
        'PaymentExpired: expired before expiresAt',
      );
      return { ...state, status: 'expired', expiredAt };
    }
    case 'RefundRequested':
      return evolveRefundRequested(state, event.data);
    case 'RefundSucceeded':
    case 'RefundFailed':
      return evolveRefundResolved(state, event);
  }
};

const evolveRefundRequested = (
  state: PaymentState,
  data: Extract<PaymentEvent, { type: 'RefundRequested' }>['data'],
): PaymentRecord => {
  assert(state.status === 'succeeded', `RefundRequested: payment is ${state.status}`);
  const { refundId, amountMinor, reason, requestedAt } = data;
  assert(findRefund(state, refundId) === null, `RefundRequested: ${refundId} requested twice`);
  assert(
    amountMinor > 0 && amountMinor <= refundableMinorOf(state),
    'RefundRequested: amount exceeds what is refundable',
  );
  const refund = { amountMinor, reason, requestedAt, status: 'requested' } as const;
  return {
    ...state,
    refunds: { ...state.refunds, [refundId]: refund },
    refundingMinor: state.refundingMinor + amountMinor,
  };
};

const evolveRefundResolved = (
  state: PaymentState,
  event:
    | { type: 'RefundSucceeded'; data: RefundSucceeded }
    | { type: 'RefundFailed'; data: RefundFailed },
): PaymentRecord => {
  assert(state.status === 'succeeded', `${event.type}: payment is ${state.status}`);
  const { refundId, amountMinor } = event.data;
  const refund = findRefund(state, refundId);
  assert(refund !== null && refund.status === 'requested', `${event.type}: refund not in flight`);
  assert(refund.amountMinor === amountMinor, `${event.type}: amount differs from the request`);
  const { reason, requestedAt } = refund;
  const request = { amountMinor, reason, requestedAt };
  const resolved: PaymentRefund =
    event.type === 'RefundSucceeded'
      ? {
          ...request,
          status: 'succeeded',
          channelRefundId: event.data.channelRefundId,
          succeededAt: event.data.succeededAt,
        }
      : {
          ...request,
          status: 'failed',
          failureReason: event.data.failureReason,
          failedAt: event.data.failedAt,
        };
  // A failed refund releases its in-flight amount; a succeeded one moves it to refunded.
  const refundedMinor = state.refundedMinor + (event.type === 'RefundSucceeded' ? amountMinor : 0);
  return {
    ...state,
    refunds: { ...state.refunds, [refundId]: resolved },
    refundingMinor: state.refundingMinor - amountMinor,
    refundedMinor,
  };
};
