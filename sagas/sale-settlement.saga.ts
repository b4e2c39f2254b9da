import { PURCHASE_ID_PREFIX } from '../domain/item/item-sale';
import { paymentAggregate } from '../domain/payment/payment.decider';
import { stringField } from '../domain/json-fields';
import { postTransfer, voidTransfer, type LedgerPorts } from './ledger-steps';
import { parseLedgerEvent, permanent, type SagaDefinition } from './saga-definition';

/**
 * A flash-sale purchase's payment settles its hold: the payment succeeded → post the hold (the
 * unit is sold); it failed, expired or was closed → void the hold (the unit goes back to stock).
 * The payment's merchantOrderNo is the hold's transfer id (`sale-…`), which is how this saga
 * knows its payments. A hold that expired before a late success stays voided: the step ends with
 * `paidAfterRelease` in its output, for a refund.
 */
const WAKE_EVENTS = ['payment.PaymentSucceeded', 'payment.PaymentFailed', 'payment.PaymentClosed'];

/** How long an unpaid payment past its expiry waits for the payment-expiry saga to expire it. */
const RECHECK_MS = 5000;

const SALE_SETTLEMENT_SAGA = 'sale_settlement';

export const saleSettlementSaga = (ports: LedgerPorts): SagaDefinition => ({
  name: SALE_SETTLEMENT_SAGA,
  triggers: ['payment.PaymentCreated', 'payment.PaymentExpired', ...WAKE_EVENTS],
  route: (event) => {
    const paymentId = event.stream.slice('payment-'.length);
    // Only a creation's data is read: a wake needs the payment's id alone (its stream's name).
    if (event.type !== 'PaymentCreated') return { kind: 'wake', sagaId: paymentId };
    const payment = parseLedgerEvent(paymentAggregate, event);
    if (payment.type !== 'PaymentCreated') return { kind: 'wake', sagaId: paymentId };
    const orderNo = payment.data.merchantOrderNo;
    if (!orderNo.startsWith(PURCHASE_ID_PREFIX)) return null;
    return { kind: 'start', sagaId: paymentId, input: { paymentId, holdId: orderNo } };
  },
  // A success of a payment that is no purchase (a top-up) has no saga here to wake: the payment,
  // in memory after its callback, says so without reading the saga's stream.
  wakes: async (paymentId) => {
    const { state } = await ports.runtime.read(paymentAggregate, paymentId);
    return state.status !== 'none' && state.merchantOrderNo.startsWith(PURCHASE_ID_PREFIX);
  },
  steps: [
    {
      name: 'settle_hold',
      run: async ({ input, nowMs, commandContext }) => {
        const paymentId = stringField(input, 'paymentId');
        const holdId = stringField(input, 'holdId');
        const { state } = await ports.runtime.read(paymentAggregate, paymentId);
        if (state.status === 'none') return permanent('payment_not_found');
        // Unpaid yet: the payment's own events (success, failure, expiry) wake this step.
        if (state.status === 'pending')
          return {
            kind: 'wait',
            untilMs: Math.max(Date.parse(state.expiresAt), nowMs + RECHECK_MS),
          };
        if (state.status === 'succeeded') {
          const posted = await postTransfer(ports, holdId, commandContext('post'));
          if (posted.kind === 'permanent' && posted.reason === 'transfer_already_voided')
            return { kind: 'done', output: { holdId, settled: 'voided', paidAfterRelease: true } };
          return posted.kind === 'done'
            ? { kind: 'done', output: { holdId, settled: 'posted' } }
            : posted;
        }
        const voided = await voidTransfer(ports, holdId, commandContext('void'));
        if (voided.kind === 'permanent' && voided.reason === 'transfer_already_posted')
          return { kind: 'done', output: { holdId, settled: 'posted' } };
        return voided.kind === 'done'
          ? { kind: 'done', output: { holdId, settled: 'voided', payment: state.status } }
          : voided;
      },
    },
  ],
});
