import type { JsonObject, RecordedEvent } from '../domain/ports/event-store.port';
import {
  paymentAggregate,
  paymentView,
  type PaymentEvent,
} from '../domain/payment/payment.decider';
import {
  foldAggregateEvent,
  asJson,
  positionKeyOf,
  type Projection,
  type ProjectionContext,
} from './projection';

/**
 * payments: one document per payment, filterable by merchant, mode, status, channel and creation
 * time;
 * refunds: one document per refund of a payment (id `<paymentId>:<refundId>`, since refund ids
 * are chosen per payment), refreshed whenever a refund event touches it.
 */
export const PAYMENTS = 'payments';
export const REFUNDS = 'refunds';

/** The refund a payment event is about, or null when it is not a refund's event. */
const refundIdOf = (event: PaymentEvent): string | null => {
  switch (event.type) {
    case 'RefundRequested':
    case 'RefundSucceeded':
    case 'RefundFailed':
      return event.data.refundId;
    default:
      return null;
  }
};

const apply = async (event: RecordedEvent, context: ProjectionContext): Promise<void> => {
  const folded = await foldAggregateEvent(paymentAggregate, PAYMENTS, event, context);
  if (folded === null) return;
  const { id: paymentId, previous, state, domainEvent } = folded;
  const domainView = paymentView(state);
  if (state.status === 'none' || domainView === null) return;
  const positionKey = positionKeyOf(event.position);
  const view = asJson({
    ...domainView,
    position: event.position.toString(),
    updatedAt: event.metadata.occurredAt,
  });
  context.put(PAYMENTS, paymentId, {
    view,
    state: asJson(state),
    positionKey,
    merchantId: state.merchantId,
    mode: domainView.mode,
    status: state.status,
    channel: state.channel,
    createdAt: state.createdAt,
  });
  const refundId = refundIdOf(domainEvent);
  if (refundId !== null) {
    const refund = domainView.refunds.find((candidate) => candidate.refundId === refundId);
    if (refund !== undefined) {
      const refundView = asJson({
        ...refund,
        paymentId,
        merchantId: state.merchantId,
        currency: state.currency,
      });
      const stored: JsonObject = {
        view: refundView,
        positionKey,
        paymentId,
        merchantId: state.merchantId,
        requestedAt: refund.requestedAt,
      };
      context.put(REFUNDS, `${paymentId}:${refundId}`, stored);
    }
  }
  if (previous.status !== state.status || refundId !== null) {
    context.announce({ stream: event.stream, position: event.position, kind: 'payment', view });
  }
};

export const paymentsProjection: Projection = {
  name: 'payments',
  collections: [
    {
      name: PAYMENTS,
      indexes: [
        ['createdAt'],
        ['merchantId', 'createdAt'],
        ['status', 'createdAt'],
        ['channel', 'createdAt'],
        ['merchantId', 'status', 'createdAt'],
        ['merchantId', 'mode', 'createdAt'],
      ],
    },
    { name: REFUNDS, indexes: [['paymentId', 'requestedAt']] },
  ],
  apply,
};
