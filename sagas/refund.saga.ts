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
  parseLedgerEvent,
  permanent,
  transient,
  type SagaDefinition,
  type StepContext,
  type StepResult,
} from './saga-definition';

/**
 * Refund requested → reserve the amount on the wallet (pending transfer to refunds-in-transit) →
 * ask the channel → wait for its answer when it answers later (its callback, else a query at the
 * channel, with back-off: after a crash the callback may never come) → post the reservation and
 * settle it to the channel's clearing account. A refusal voids the reservation and marks the
 * refund failed on the payment, so the payment's refund state always follows the money.
 */
type RefundSagaOptions = {
  /**
   * A refund the channel accepted and has not answered for this long (its callback is late or
   * was lost, e.g. in a crash) is queried at the channel; then again after half the time it has
   * been waiting, at least this and at most `resultQueryMaxMs` later (back-off).
   */
  resultQueryMinMs: number;
  resultQueryMaxMs: number;
  /** After this long without the channel's answer the refund is given up and compensated. */
  resultTimeoutMs: number;
};

export const refundTransferId = (paymentId: string, refundId: string): string =>
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

/** The next query of a refund that has waited `elapsedMs`: half that later, within the bounds. */
const nextQueryAtMs = (nowMs: number, elapsedMs: number, options: RefundSagaOptions): number =>
  nowMs +
  Math.min(options.resultQueryMaxMs, Math.max(options.resultQueryMinMs, Math.round(elapsedMs / 2)));

/**
 * Records the channel's answer about a refund; the payment's refund state then decides the saga.
 * When a callback recorded the outcome first, the step runs again at once and follows it.
 */
const settleRefund = async (
  ports: LedgerPorts,
  context: StepContext,
  result:
    | { outcome: 'succeeded'; channelRefundId: string }
    | { outcome: 'failed'; failureReason: string },
): Promise<StepResult> => {
  const recorded = await recordResult(ports, context, result);
  if (recorded.kind === 'permanent' && recorded.reason === 'refund_resolved_otherwise')
    return { kind: 'wait', untilMs: context.nowMs };
  if (recorded.kind !== 'done') return recorded;
  return result.outcome === 'succeeded'
    ? ok()
    : permanent(`channel_refund_failed: ${result.failureReason}`);
};

/**
 * Asks the channel about a refund that is still waiting for its answer: succeeded or failed
 * settles it; a refund the channel does not know (the request was lost) is requested again,
 * idempotently by refund id; pending, or a channel that does not answer, is asked again later.
 */
const askChannelForResult = async (
  ports: LedgerPorts,
  context: StepContext,
  payment: PaymentRecord,
  waited: { elapsedMs: number; options: RefundSagaOptions },
): Promise<StepResult> => {
  const refundId = stringField(context.input, 'refundId');
  const gateway = gatewayOf(ports, payment.channel);
  if (gateway === null || payment.status !== 'succeeded')
    return permanent(`no_gateway_for_${payment.channel}`);
  const later: StepResult = {
    kind: 'wait',
    untilMs: nextQueryAtMs(context.nowMs, waited.elapsedMs, waited.options),
  };
  const { channelTransactionId } = payment.paid;
  const answer = await gateway.queryRefund({
    paymentId: payment.paymentId,
    refundId,
    channelTransactionId,
  });
  if (!answer.ok) return later; // Recorded on the channel log; the refund waits for an answer.
  switch (answer.value.status) {
    case 'succeeded':
      return settleRefund(ports, context, {
        outcome: 'succeeded',
        channelRefundId: answer.value.channelRefundId,
      });
    case 'failed':
      return settleRefund(ports, context, {
        outcome: 'failed',
        failureReason: answer.value.failureReason,
      });
    case 'pending':
      return later;
    case 'unknown': {
      const request = {
        paymentId: payment.paymentId,
        refundId,
        amountMinor: numberField(context.input, 'amountMinor'),
        currency: payment.currency,
        channelTransactionId,
      };
      const again = await gateway.refund(request);
      if (!again.ok)
        return again.kind === 'permanent'
          ? settleRefund(ports, context, { outcome: 'failed', failureReason: again.reason })
          : later;
      if (again.value.status === 'accepted') return later;
      return settleRefund(ports, context, {
        outcome: 'succeeded',
        channelRefundId: again.value.channelRefundId ?? `refund-${refundId}`,
      });
    }
  }
};

export const refundSaga = (ports: LedgerPorts, options: RefundSagaOptions): SagaDefinition => ({
  name: 'refund',
  // New triggers go last: the NATS consumers are named by their trigger's index.
  triggers: ['payment.RefundRequested', 'payment.RefundSucceeded', 'payment.RefundFailed'],
  route: (event) => {
    const paymentId = event.stream.slice('payment-'.length);
    const refund = parseLedgerEvent(paymentAggregate, event);
    if (
      refund.type !== 'RefundRequested' &&
      refund.type !== 'RefundSucceeded' &&
      refund.type !== 'RefundFailed'
    )
      return null;
    const { refundId, amountMinor } = refund.data;
    const sagaId = `${paymentId}_${refundId}`;
    // The channel's answer (usually its callback) wakes await_result instead of its next poll.
    if (refund.type !== 'RefundRequested') return { kind: 'wake', sagaId };
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
      run: async (context) => {
        const payment = await loadPayment(ports, context.input);
        const refund = findRefund(payment, stringField(context.input, 'refundId'));
        if (refund === null) return permanent('refund_not_found');
        if (refund.status === 'succeeded') return ok();
        if (refund.status === 'failed')
          return permanent(`channel_refund_failed: ${refund.failureReason}`);
        const elapsedMs = context.nowMs - Date.parse(refund.requestedAt);
        if (elapsedMs >= options.resultTimeoutMs) return permanent('refund_result_timeout');
        // The callback usually wakes this step first; the channel is asked only when it is late.
        if (elapsedMs < options.resultQueryMinMs)
          return {
            kind: 'wait',
            untilMs: Date.parse(refund.requestedAt) + options.resultQueryMinMs,
          };
        return askChannelForResult(ports, context, payment, { elapsedMs, options });
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
