import {
  findRefund,
  paymentAggregate,
  type PaymentRecord,
} from '../domain/payment/payment.decider';
import {
  ensureSystemAccount,
  gatewayOf,
  postTransfer,
  requestTransfer,
  systemAccounts,
  voidTransfer,
  type LedgerPorts,
} from './ledger-steps';
import { numberField, stringField } from '../domain/json-fields';
import {
  ok,
  permanent,
  transient,
  type SagaDefinition,
  type StepContext,
  type StepResult,
} from './saga-definition';

/**
 * Refund requested → reserve the amount on the wallet (pending transfer to refunds-in-transit) →
 * ask the channel → wait for its answer when it answers later → post the reservation and settle
 * it to the channel's clearing account. A refusal voids the reservation and marks the refund
 * failed on the payment, so the payment's refund state always follows the money.
 */
type RefundSagaOptions = {
  /**
   * How often a refund the channel accepted is checked for its answer; the answer's event wakes
   * the saga at once, so this only matters when that wake is lost.
   */
  resultPollMs: number;
  /** After this long without the channel's answer the refund is given up and compensated. */
  resultTimeoutMs: number;
};

const refundTransferId = (paymentId: string, refundId: string): string =>
  `refund-${paymentId}-${refundId}`;

const loadPayment = async (
  ports: LedgerPorts,
  input: StepContext['input'],
): Promise<PaymentRecord> => {
  const { state } = await ports.runtime.read(paymentAggregate, stringField(input, 'paymentId'));
  if (state.status === 'none')
    throw new Error(`refund saga: payment ${stringField(input, 'paymentId')} not found`);
  return state;
};

const recordResult = async (
  ports: LedgerPorts,
  context: StepContext,
  result:
    | { outcome: 'succeeded'; channelRefundId: string }
    | { outcome: 'failed'; failureReason: string },
): Promise<StepResult> => {
  const data = {
    ...result,
    refundId: stringField(context.input, 'refundId'),
    now: new Date(context.nowMs).toISOString(),
  };
  const outcome = await ports.runtime.execute(
    paymentAggregate,
    stringField(context.input, 'paymentId'),
    { type: 'RecordRefundResult', data },
    context.commandContext(`refund-${result.outcome}`),
  );
  // The channel's callback may have recorded the other outcome first: the money follows the payment.
  if (!outcome.ok && outcome.rejection === 'refund_already_resolved')
    return permanent('refund_resolved_otherwise');
  return outcome.ok ? ok() : permanent(outcome.rejection);
};

export const refundSaga = (ports: LedgerPorts, options: RefundSagaOptions): SagaDefinition => ({
  name: 'refund',
  // New triggers go last: the NATS consumers are named by their trigger's index.
  triggers: ['payment.RefundRequested', 'payment.RefundSucceeded', 'payment.RefundFailed'],
  route: (event) => {
    const paymentId = event.stream.slice('payment-'.length);
    const refundId = event.data['refundId'];
    const amountMinor = event.data['amountMinor'];
    if (typeof refundId !== 'string' || typeof amountMinor !== 'number') return null;
    const sagaId = `${paymentId}_${refundId}`;
    // The channel's answer (usually its callback) wakes await_result instead of its next poll.
    if (event.type !== 'RefundRequested') return { kind: 'wake', sagaId };
    return { kind: 'start', sagaId, input: { paymentId, refundId, amountMinor } };
  },
  steps: [
    {
      name: 'track_refund',
      run: () => Promise.resolve(ok()),
      compensate: async (context) => {
        const result = await recordResult(ports, context, {
          outcome: 'failed',
          failureReason: 'refund_saga_compensated',
        });
        return result.kind === 'permanent' && result.reason === 'refund_resolved_otherwise'
          ? ok()
          : result;
      },
    },
    {
      name: 'reserve',
      run: async ({ input, commandContext }) => {
        const payment = await loadPayment(ports, input);
        const context = commandContext('reserve');
        const inTransit = systemAccounts.refundsInTransit(payment.currency);
        const refused = await ensureSystemAccount(ports, inTransit, payment.currency, context);
        if (refused !== null) return refused;
        const transferId = refundTransferId(payment.paymentId, stringField(input, 'refundId'));
        const terms = {
          transferId,
          debitAccountId: payment.creditAccountId,
          creditAccountId: inTransit,
          amountMinor: numberField(input, 'amountMinor'),
          currency: payment.currency,
          mode: 'two_phase' as const,
          reference: `refund:${stringField(input, 'refundId')}`,
        };
        return requestTransfer(ports, terms, context);
      },
      compensate: ({ input, commandContext }) =>
        voidTransfer(
          ports,
          refundTransferId(stringField(input, 'paymentId'), stringField(input, 'refundId')),
          commandContext('reserve-void'),
        ),
    },
    {
      name: 'ask_channel',
      run: async (context) => {
        const payment = await loadPayment(ports, context.input);
        const refundId = stringField(context.input, 'refundId');
        if (findRefund(payment, refundId)?.status !== 'requested') return ok(); // Answered by a callback.
        const gateway = gatewayOf(ports, payment.channel);
        if (gateway === null || payment.status !== 'succeeded')
          return permanent(`no_gateway_for_${payment.channel}`);
        const request = {
          paymentId: payment.paymentId,
          refundId,
          amountMinor: numberField(context.input, 'amountMinor'),
          currency: payment.currency,
          channelTransactionId: payment.paid.channelTransactionId,
        };
        const answer = await gateway.refund(request);
        if (!answer.ok)
          return answer.kind === 'transient' ? transient(answer.reason) : permanent(answer.reason);
        if (answer.value.status === 'accepted') return ok();
        const result = await recordResult(ports, context, {
          outcome: 'succeeded',
          channelRefundId: answer.value.channelRefundId ?? `refund-${refundId}`,
        });
        return result.kind === 'done' ? ok() : result;
      },
    },
    {
      name: 'await_result',
      run: async ({ input, nowMs }) => {
        const payment = await loadPayment(ports, input);
        const refund = findRefund(payment, stringField(input, 'refundId'));
        if (refund === null) return permanent('refund_not_found');
        if (refund.status === 'succeeded') return ok();
        if (refund.status === 'failed')
          return permanent(`channel_refund_failed: ${refund.failureReason}`);
        if (nowMs - Date.parse(refund.requestedAt) >= options.resultTimeoutMs)
          return permanent('refund_result_timeout');
        return { kind: 'wait', untilMs: nowMs + options.resultPollMs };
      },
    },
    {
      name: 'post',
      run: ({ input, commandContext }) =>
        postTransfer(
          ports,
          refundTransferId(stringField(input, 'paymentId'), stringField(input, 'refundId')),
          commandContext('post'),
        ),
    },
    {
      name: 'settle',
      run: async ({ input, commandContext }) => {
        const payment = await loadPayment(ports, input);
        const context = commandContext('settle');
        const clearing = systemAccounts.clearing(payment.channel, payment.currency);
        const refused = await ensureSystemAccount(ports, clearing, payment.currency, context);
        if (refused !== null) return refused;
        const transferId = `${refundTransferId(payment.paymentId, stringField(input, 'refundId'))}-settle`;
        const terms = {
          transferId,
          debitAccountId: systemAccounts.refundsInTransit(payment.currency),
          creditAccountId: clearing,
          amountMinor: numberField(input, 'amountMinor'),
          currency: payment.currency,
          mode: 'single_phase' as const,
          reference: `refund-settle:${stringField(input, 'refundId')}`,
        };
        return requestTransfer(ports, terms, context);
      },
    },
  ],
});
