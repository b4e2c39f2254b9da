import type { PaymentState } from '../payment/payment.model';
import type { TransferTerms } from '../transfer/transfer.model';
import type { LinkedCommand } from './ledger.decider';

/**
 * The wallet credit of a paid payment, decided in this one place for both of its paths: in the
 * payment's own commit (payment-credit.appender.ts) and, when that credit was refused or the
 * payment was recorded by an older build, by the top_up saga. Clearing account of the channel and
 * currency → the payer's account, once per payment (transfer id `topup-<paymentId>`).
 */
export const topUpTransferId = (paymentId: string): string => `topup-${paymentId}`;

/** The system account a channel's money arrives on, per currency. */
export const clearingAccountId = (channel: string, currency: string): string =>
  `clearing-${channel}-${currency}`;

/** A system account's terms: re-opening with these terms is a no-op. */
export const systemAccountTerms = (accountId: string, currency: string) => ({
  accountId,
  ownerClientId: 'system',
  currency,
  constraint: 'none' as const,
  metadata: { system: 'true' },
});

type TopUpCredit = {
  clearing: ReturnType<typeof systemAccountTerms>;
  terms: Omit<TransferTerms, 'timeoutMs'>;
};

/** The credit a succeeded payment is owed; null for a payment not (or no longer) succeeded. */
export const topUpCreditOf = (paymentId: string, state: PaymentState): TopUpCredit | null => {
  if (state.status !== 'succeeded') return null;
  const { currency, channel, creditAccountId } = state;
  const clearing = clearingAccountId(channel, currency);
  return {
    clearing: systemAccountTerms(clearing, currency),
    terms: {
      transferId: topUpTransferId(paymentId),
      debitAccountId: clearing,
      creditAccountId,
      amountMinor: state.paid.amountMinor,
      currency,
      mode: 'single_phase',
      reference: `payment:${paymentId}`,
    },
  };
};

/**
 * The credit as one linked chain: the clearing account opened if it is not (a no-op when it is)
 * and the transfer; all of it or, when the ledger refuses any part, none of it.
 */
export const topUpCreditCommands = (credit: TopUpCredit): LinkedCommand[] => [
  { command: { type: 'OpenAccount', data: credit.clearing }, linked: true },
  {
    command: { type: 'CreateTransfer', data: { ...credit.terms, timeoutMs: null } },
    linked: false,
  },
];
