import { paymentAggregate } from '../domain/payment/payment.decider';
import { topUpCreditOf, topUpTransferId } from '../domain/ledger/top-up-credit';
import { transferStream } from '../domain/transfer/transfer.decider';
import { ensureSystemAccount, requestTransfer, type LedgerPorts } from './ledger-steps';
import { stringField } from '../domain/json-fields';
import { parseLedgerEvent, permanent, type SagaDefinition } from './saga-definition';

const TOP_UP_TRANSFER_STREAM_PREFIX = `transfer-${topUpTransferId('')}`;

/**
 * Payment succeeded → clearing account of its channel to the payer's wallet, once per payment.
 * The credit normally commits with the payment's success (domain/ledger/payment-credit.appender.ts)
 * and the saga then does nothing and records nothing; it credits a payment whose credit the ledger
 * refused beside the success, and one recorded by an older build.
 */
export const topUpSaga = (ports: LedgerPorts): SagaDefinition => ({
  name: 'top_up',
  triggers: ['payment.PaymentSucceeded'],
  // The credit enters the ledger as soon as the payment's success is durable.
  firstStepBesideStart: true,
  route: (event) => {
    const paymentId = event.stream.slice('payment-'.length);
    return { kind: 'start', sagaId: paymentId, input: { paymentId } };
  },
  // The transfer id is the payment's: posted, whoever made it, the payment is credited. A refused
  // one is left to the step, which records the saga's failure as before.
  doneWithout: async (input) => {
    const transferId = topUpTransferId(stringField(input, 'paymentId'));
    return (await ports.ledger.transfer(transferId)).state.status === 'posted';
  },
  // The same fact seen in the log: the credit transfer posted (in the payment's own commit, just
  // before its success, or by this saga earlier).
  doneBy: {
    triggers: ['transfer.TransferCreated', 'transfer.TransferPosted'],
    sagaIdOf: (event) => {
      if (!event.stream.startsWith(TOP_UP_TRANSFER_STREAM_PREFIX)) return null;
      const transfer = parseLedgerEvent(transferStream, event);
      const posted =
        transfer.type === 'TransferPosted' ||
        (transfer.type === 'TransferCreated' && transfer.data.status === 'posted');
      return posted ? event.stream.slice(TOP_UP_TRANSFER_STREAM_PREFIX.length) : null;
    },
  },
  steps: [
    {
      name: 'credit_wallet',
      run: async ({ input, commandContext }) => {
        const paymentId = stringField(input, 'paymentId');
        const { state } = await ports.runtime.read(paymentAggregate, paymentId);
        const credit = topUpCreditOf(paymentId, state);
        if (credit === null) return permanent(`payment_${state.status}`);
        const { clearing, terms } = credit;
        const context = commandContext('credit');
        const refused = await ensureSystemAccount(
          ports,
          clearing.accountId,
          clearing.currency,
          context,
        );
        if (refused !== null) return refused;
        const result = await requestTransfer(ports, terms, context);
        return result.kind === 'done'
          ? {
              kind: 'done',
              output: { transferId: terms.transferId, creditAccountId: terms.creditAccountId },
            }
          : result;
      },
    },
  ],
});
