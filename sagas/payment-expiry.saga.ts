import { paymentAggregate } from '../domain/payment/payment.decider';
import type { ChannelResult } from '../domain/payment/payment.model';
import { gatewayOf, type LedgerPorts } from './ledger-steps';
import { stringField } from '../domain/json-fields';
import { ok, permanent, transient, type SagaDefinition } from './saga-definition';

/**
 * A payment not paid by its expiry is first queried at the channel: paid there (its callback was
 * lost), it is recorded as paid; else it is expired and its channel order closed. A success callback
 * arriving afterwards is flagged by the payment decider (paid_after_close) for refund and never
 * credited, because the top-up saga only credits PaymentSucceeded.
 */
type ChannelPaid = Extract<ChannelResult, { outcome: 'succeeded' }>;

const WAKE_EVENTS = ['payment.PaymentSucceeded', 'payment.PaymentFailed', 'payment.PaymentClosed'];

/**
 * What the channel says of an order at its expiry: its payment when it was paid, else null (not
 * paid, or no answer: the order is expired and closed, and a later success is flagged).
 */
const paidAtChannel = async (
  ports: LedgerPorts,
  channel: string,
  paymentId: string,
): Promise<ChannelPaid | null> => {
  const gateway = gatewayOf(ports, channel);
  if (gateway === null) return null;
  const answer = await gateway.queryOrder(paymentId);
  if (!answer.ok) return null;
  const { status, channelTransactionId, amountMinor, currency } = answer.value;
  if (status !== 'succeeded' || channelTransactionId === null) return null;
  if (amountMinor === null || currency === null) return null;
  return { outcome: 'succeeded', channelTransactionId, amountMinor, currency };
};

export const paymentExpirySaga = (ports: LedgerPorts): SagaDefinition => ({
  name: 'payment_expiry',
  triggers: ['payment.PaymentCreated', ...WAKE_EVENTS],
  route: (event) => {
    const paymentId = event.stream.slice('payment-'.length);
    if (event.type === 'PaymentCreated')
      return { kind: 'start', sagaId: paymentId, input: { paymentId } };
    return { kind: 'wake', sagaId: paymentId };
  },
  steps: [
    {
      name: 'expire',
      run: async ({ input, nowMs, commandContext }) => {
        const paymentId = stringField(input, 'paymentId');
        const { state } = await ports.runtime.read(paymentAggregate, paymentId);
        if (state.status === 'none') return permanent('payment_not_found');
        if (state.status !== 'pending')
          return {
            kind: 'done',
            output: { expired: state.status === 'expired' },
            finish: state.status !== 'expired',
          };
        const expiresAtMs = Date.parse(state.expiresAt);
        if (nowMs < expiresAtMs) return { kind: 'wait', untilMs: expiresAtMs };
        // Paid at the channel, its callback lost (e.g. in a crash): record the payment, not expire it.
        const paid = await paidAtChannel(ports, state.channel, paymentId);
        if (paid !== null) {
          const recorded = await ports.runtime.execute(
            paymentAggregate,
            paymentId,
            { type: 'RecordChannelResult', data: { ...paid, now: new Date(nowMs).toISOString() } },
            commandContext('paid-at-channel'),
          );
          const after = recorded.ok ? await ports.runtime.read(paymentAggregate, paymentId) : null;
          // A mismatching amount is flagged and leaves the payment pending: it expires as before.
          if (after !== null && after.state.status !== 'pending')
            return { kind: 'done', output: { expired: false }, finish: true };
        }
        const context = commandContext('expire');
        const outcome = await ports.runtime.execute(
          paymentAggregate,
          paymentId,
          { type: 'ExpirePayment', data: { now: context.now } },
          context,
        );
        if (!outcome.ok)
          return outcome.rejection === 'payment_not_pending'
            ? { kind: 'done', output: { expired: false }, finish: true }
            : permanent(outcome.rejection);
        return { kind: 'done', output: { expired: true, channel: state.channel } };
      },
    },
    {
      name: 'close_channel_order',
      run: async ({ input, outputs }) => {
        const gateway = gatewayOf(ports, stringField(outputs, 'channel'));
        if (gateway === null) return ok({ channelOrderClosed: false });
        const answer = await gateway.closeOrder(stringField(input, 'paymentId'));
        if (answer.ok) return ok({ channelOrderClosed: true });
        // A channel refusing to close (e.g. paid meanwhile) changes nothing here: the late payment is flagged.
        return answer.kind === 'transient'
          ? transient(answer.reason)
          : ok({ channelOrderClosed: false, channelRefusal: answer.reason });
      },
    },
  ],
});
