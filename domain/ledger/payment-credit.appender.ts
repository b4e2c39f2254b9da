import type { ActorEventHook, BatchAppender } from '../actors/actor-runtime.types';
import { appendWithRecords } from '../actors/stream-append';
import { assert } from '../assert';
import type { AppendResult, EventStore } from '../ports/event-store.port';
import type { PaymentState } from '../payment/payment.model';
import type { Ledger } from './ledger';
import { topUpCreditCommands, topUpCreditOf } from './top-up-credit';

const PAYMENT_STREAM_PREFIX = 'payment-';

/**
 * The payment category's appender: a batch that records a payment's success goes through the
 * ledger, the single writer of money, which decides the wallet credit (top-up-credit.ts) and
 * commits it in the SAME atomic append as the payment's events and the callback's replay key.
 * The credit is visible when the success is acknowledged: no relay, bus or saga on its path. A
 * credit the ledger refuses leaves the payment's events to commit alone, and the top_up saga
 * handles the payment as before. Every other payment batch goes to the store as usual.
 */
export const createPaymentCreditAppender = (options: {
  ledger: Ledger;
  store: EventStore;
  onEvent: ActorEventHook;
}): BatchAppender => {
  const { ledger, store, onEvent } = options;
  return async (append): Promise<AppendResult> => {
    const { stream, events, expected, records, context } = append;
    assert(stream.startsWith(PAYMENT_STREAM_PREFIX), `payment appender given ${stream}`);
    const paymentId = stream.slice(PAYMENT_STREAM_PREFIX.length);
    const paid = events.some((event) => event.type === 'PaymentSucceeded');
    // The runtime hands this appender the payment streams' batches only (by category).
    const credit = paid ? topUpCreditOf(paymentId, append.stateAfter as PaymentState) : null;
    if (credit === null) return appendWithRecords(store, stream, events, expected, records);
    const reply = await ledger.execute({
      commands: topUpCreditCommands(credit),
      context,
      idempotency: null,
      carried: { stream, events, expected, records },
    });
    assert(reply.kind === 'decided' && reply.carried !== null, `${stream}: carried not answered`);
    if (reply.carried.kind === 'conflict')
      return {
        ok: false,
        reason: 'revision_conflict',
        revisionActual: reply.carried.revisionActual,
      };
    assert(reply.position !== null, `${stream}: committed without a position`);
    const rejections = reply.outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.rejection]));
    if (rejections.length > 0) onEvent('top_up_credit_refused', { paymentId, rejections });
    return { ok: true, lastRevision: reply.carried.lastRevision, lastPosition: reply.position };
  };
};
