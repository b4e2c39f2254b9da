import type { CommandContext } from '../domain/actors/actor-runtime';
import { afterCloseOrder } from '../domain/payment/channel-truth';
import { paymentAggregate } from '../domain/payment/payment.decider';
import { recoverPaidPayment } from '../domain/payment/recover-paid-payment';
import type { PaymentChannelGateway } from '../domain/ports/payment-channel.port';
import { gatewayOf, type LedgerPorts } from './ledger-steps';
import { stringField } from '../domain/json-fields';
import {
  ok,
  parseLedgerEvent,
  permanent,
  transient,
  type SagaDefinition,
  type StepResult,
} from './saga-definition';

/**
 * The one owner of a payment's deadline. Started by the sweeper only when `expiresAt` passes with
 * the payment still pending (a payment paid, failed or closed before never has one: a success
 * touches no saga). At `expiresAt` the channel, the source of truth, is
 * asked first (`queryOrder`): paid there (its notification was lost), the payment is applied as
 * if the notification had come, flagged `recovered`, and not expired. Else the order is closed at
 * the channel, then the payment expired. A channel refusing the close is asked again (paid
 * meanwhile: recovered); one not answering does not hold the expiry, and the close is retried in
 * the next step. A success reported later is judged by the channel's paid time against
 * `expiresAt` (payment decider): paid in time it is still credited, else flagged. Sagas started
 * at payment creation by older builds wait on their timer and end at `expiresAt` as before.
 */
const ENDING_EVENTS = [
  'payment.PaymentSucceeded',
  'payment.PaymentFailed',
  'payment.PaymentClosed',
  'payment.PaymentExpired',
];

/** True when the channel reports the order paid and the payment is no longer pending. */
const recoveredAtChannel = async (
  ports: LedgerPorts,
  gateway: PaymentChannelGateway,
  paymentId: string,
  context: CommandContext,
): Promise<boolean> => {
  const answer = await gateway.queryOrder(paymentId);
  if (!answer.ok) return false;
  const recorded = await recoverPaidPayment(ports.runtime, paymentId, answer.value, context);
  // Another amount or currency is flagged and leaves the payment pending: it expires as before.
  return recorded !== null && recorded.ok && recorded.state.status !== 'pending';
};

const RECOVERED: StepResult = { kind: 'done', output: { expired: false }, finish: true };

/** Closes the order at the channel unless it was paid; true: closed there (or nothing to close). */
const closeAtChannel = async (
  ports: LedgerPorts,
  gateway: PaymentChannelGateway,
  paymentId: string,
  context: CommandContext,
): Promise<{ recovered: true } | { recovered: false; channelOrderClosed: boolean }> => {
  const verdict = afterCloseOrder(await gateway.closeOrder(paymentId));
  if (verdict.kind === 'close_ledger') return { recovered: false, channelOrderClosed: true };
  if (
    verdict.kind === 'query_channel' &&
    (await recoveredAtChannel(ports, gateway, paymentId, context))
  )
    return { recovered: true };
  return { recovered: false, channelOrderClosed: false };
};

export const paymentExpirySaga = (ports: LedgerPorts): SagaDefinition => ({
  name: 'payment_expiry',
  triggers: [],
  route: () => null,
  deadline: {
    triggers: ['payment.PaymentCreated', ...ENDING_EVENTS],
    route: (event) => {
      const sagaId = event.stream.slice('payment-'.length);
      if (event.type !== 'PaymentCreated') return { sagaId, start: null };
      const payment = parseLedgerEvent(paymentAggregate, event);
      if (payment.type !== 'PaymentCreated') return null;
      const atMs = Date.parse(payment.data.expiresAt);
      return { sagaId, start: { input: { paymentId: sagaId }, atMs } };
    },
  },
  // Paid, failed or closed by its deadline (or unknown): nothing to expire, no saga.
  doneWithout: async (input) =>
    (await ports.runtime.read(paymentAggregate, stringField(input, 'paymentId'))).state.status !==
    'pending',
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
        const gateway = gatewayOf(ports, state.channel);
        let channelOrderClosed = gateway === null;
        if (gateway !== null) {
          const queried = commandContext('paid-at-channel');
          if (await recoveredAtChannel(ports, gateway, paymentId, queried)) return RECOVERED;
          const refused = commandContext('paid-at-close');
          const closed = await closeAtChannel(ports, gateway, paymentId, refused);
          if (closed.recovered) return RECOVERED;
          channelOrderClosed = closed.channelOrderClosed;
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
        return {
          kind: 'done',
          output: { expired: true, channel: state.channel, channelOrderClosed },
        };
      },
    },
    {
      name: 'close_channel_order',
      run: async ({ input, outputs }) => {
        // Closed before the expiry (or a saga from before that order): nothing left to do.
        if (outputs['channelOrderClosed'] === true) return ok({ channelOrderClosed: true });
        const gateway = gatewayOf(ports, stringField(outputs, 'channel'));
        if (gateway === null) return ok({ channelOrderClosed: false });
        const answer = await gateway.closeOrder(stringField(input, 'paymentId'));
        if (answer.ok) return ok({ channelOrderClosed: true });
        // A channel refusing to close (e.g. paid meanwhile) changes nothing here: a late success is
        // judged by its paid time when its notification comes.
        return answer.kind === 'transient'
          ? transient(answer.reason)
          : ok({ channelOrderClosed: false, channelRefusal: answer.reason });
      },
    },
  ],
});
