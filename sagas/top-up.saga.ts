import { paymentAggregate } from '../domain/payment/payment.decider';
import {
  ensureSystemAccount,
  requestTransfer,
  systemAccounts,
  type LedgerPorts,
} from './ledger-steps';
import { stringField } from '../domain/json-fields';
import { permanent, type SagaDefinition } from './saga-definition';

/** Payment succeeded → clearing account of its channel to the payer's wallet, once per payment. */
const topUpTransferId = (paymentId: string): string => `topup-${paymentId}`;

export const topUpSaga = (ports: LedgerPorts): SagaDefinition => ({
  name: 'top_up',
  triggers: ['payment.PaymentSucceeded'],
  // The credit enters the ledger as soon as the payment's success is durable.
  firstStepBesideStart: true,
  route: (event) => {
    const paymentId = event.stream.slice('payment-'.length);
    return { kind: 'start', sagaId: paymentId, input: { paymentId } };
  },
  steps: [
    {
      name: 'credit_wallet',
      run: async ({ input, commandContext }) => {
        const paymentId = stringField(input, 'paymentId');
        const { state } = await ports.runtime.read(paymentAggregate, paymentId);
        if (state.status !== 'succeeded') return permanent(`payment_${state.status}`);
        const { currency, channel, creditAccountId } = state;
        const clearing = systemAccounts.clearing(channel, currency);
        const context = commandContext('credit');
        const refused = await ensureSystemAccount(ports, clearing, currency, context);
        if (refused !== null) return refused;
        const transferId = topUpTransferId(paymentId);
        const terms = {
          transferId,
          debitAccountId: clearing,
          creditAccountId,
          amountMinor: state.paid.amountMinor,
          currency,
          mode: 'single_phase' as const,
          reference: `payment:${paymentId}`,
        };
        const result = await requestTransfer(ports, terms, context);
        return result.kind === 'done'
          ? { kind: 'done', output: { transferId, creditAccountId } }
          : result;
      },
    },
  ],
});
