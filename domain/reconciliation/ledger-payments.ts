import type { EventStore } from '../ports/event-store.port';
import { parseStored } from '../aggregate';
import { paymentAggregate } from '../payment/payment.decider';
import { evolvePayment } from '../payment/payment.evolve';
import type { PaymentState } from '../payment/payment.model';
import type { LedgerPayment } from './reconciliation';

const PAYMENT_STREAM_PREFIX = 'payment-';

/**
 * The ledger side of a reconciliation: every payment of `channel`, folded from the global log
 * page by page (the read side's payment model will serve this once it exists).
 */
export const loadLedgerPayments = async (
  store: EventStore,
  channel: string,
  pageEventCountMax: number,
  onPage: (eventCount: number, position: bigint) => void = () => undefined,
): Promise<LedgerPayment[]> => {
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
  const payments: LedgerPayment[] = [];
  for (const state of states.values()) {
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
