import { paymentAggregate } from '../domain/payment/payment.decider';
import { gatewayOf, type LedgerPorts } from './ledger-steps';
import { stringField } from '../domain/json-fields';
import { ok, permanent, transient, type SagaDefinition } from './saga-definition';

/**
 * A payment not paid by its expiry is expired and its channel order closed. A success callback
 * arriving afterwards is flagged by the payment decider (paid_after_close) for refund and never
 * credited, because the top-up saga only credits PaymentSucceeded.
 */
const WAKE_EVENTS = ['payment.PaymentSucceeded', 'payment.PaymentFailed', 'payment.PaymentClosed'];

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
