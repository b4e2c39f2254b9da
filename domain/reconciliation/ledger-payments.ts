import type { EventStore } from '../ports/event-store.port';
import { parseStored } from '../aggregate';
import { paymentAggregate } from '../payment/payment.decider';
import { evolvePayment } from '../payment/payment.evolve';
import type { PaymentState } from '../payment/payment.model';
import type { LedgerPayment, LedgerRefund } from './reconciliation';

const PAYMENT_STREAM_PREFIX = 'payment-';

/**
 * Every payment's state, folded from the global log page by page (the read side's payment model
 * will serve this once it exists).
 */
export const foldPaymentStates = async (
  store: EventStore,
  pageEventCountMax: number,
  onPage: (eventCount: number, position: bigint) => void = () => undefined,
): Promise<PaymentState[]> => {
  const states = new Map<string, PaymentState>();
  let afterPosition: bigint | null = null;
  let eventCount = 0;
  for (;;) {
    const page = await store.readAll({ afterPosition, eventCountMax: pageEventCountMax });
    for (const event of page) {
      if (!event.stream.startsWith(PAYMENT_STREAM_PREFIX)) continue;
      const paymentId = event.stream.slice(PAYMENT_STREAM_PREFIX.length);
      const state = states.get(paymentId) ?? { status: 'none' };
      states.set(paymentId, evolvePayment(state, parseStored(paymentAggregate, event)));
    }
    eventCount += page.length;
    const last = page[page.length - 1];
    if (last !== undefined) onPage(eventCount, last.position);
    if (last === undefined || page.length < pageEventCountMax) break;
    afterPosition = last.position;
  }
  return [...states.values()];
};

/** The ledger side of a reconciliation: the payments of `channel`. */
export const ledgerPaymentsOf = (
  states: readonly PaymentState[],
  channel: string,
): LedgerPayment[] => {
  const payments: LedgerPayment[] = [];
  for (const state of states) {
    if (state.status === 'none' || state.channel !== channel) continue;
    const paid = state.status === 'succeeded' ? state.paid : null;
    payments.push({
      paymentId: state.paymentId,
      status: state.status,
      amountMinor: state.amountMinor,
      currency: state.currency,
      channelTransactionId:
        paid?.channelTransactionId ??
        (state.status === 'failed' ? state.failure.channelTransactionId : null),
      paidAt: paid?.paidAt ?? null,
    });
  }
  return payments;
};

/** The refunds the ledger recorded on payments of `channel`. */
export const ledgerRefundsOf = (states: readonly PaymentState[], channel: string): LedgerRefund[] =>
  states.flatMap((state) =>
    state.status === 'none' || state.channel !== channel
      ? []
      : Object.entries(state.refunds).map(([refundId, refund]) => ({
          paymentId: state.paymentId,
          refundId,
          status: refund.status,
          amountMinor: refund.amountMinor,
        })),
  );

/** The payments of `channel`, folded from the log. */
export const loadLedgerPayments = async (
  store: EventStore,
  channel: string,
  pageEventCountMax: number,
  onPage?: (eventCount: number, position: bigint) => void,
): Promise<LedgerPayment[]> =>
  ledgerPaymentsOf(await foldPaymentStates(store, pageEventCountMax, onPage), channel);
