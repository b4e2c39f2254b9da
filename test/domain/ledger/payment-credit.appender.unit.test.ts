import { createInMemoryEventStore } from '../../../adapters/eventstore/in-memory.event-store';
import { paymentAggregate } from '../../../domain/payment/payment.decider';
import type { IdempotencyRecord } from '../../../domain/ports/event-store.port';
import { balanceOf, createLedger, openAccount, testContext } from '../../support/ledger-harness';
import { createPayment, creditCount, payPayment } from '../../sagas/support/saga-harness';

const replayRecord = (key: string): IdempotencyRecord => ({
  scope: 'channel-replay:sandbox',
  key,
  fingerprint: 'sandbox',
  response: { status: 200, body: null, headers: {} },
  createdAtMs: 0,
});

const opened: ReturnType<typeof createLedger>[] = [];
afterEach(async () => {
  const instances = opened.splice(0);
  await Promise.all(
    instances.flatMap(({ runtime, ledger, traffic }) => [
      runtime.close(),
      ledger.close(),
      traffic.close(),
    ]),
  );
});

/** Two service instances over one log: each with its own runtime and ledger. */
const twoInstances = async () => {
  const store = createInMemoryEventStore();
  const first = createLedger(store);
  const second = createLedger(store);
  opened.push(first, second);
  await openAccount(first, 'w1', { constraint: 'debits_must_not_exceed_credits' });
  await createPayment(first, 'p1', { walletId: 'w1', amountMinor: 300 });
  await second.ledger.account('w1');
  return { store, first, second };
};

describe('the payment credit appender (two instances over one log)', () => {
  it('credits once when another instance recorded the success first: the carried stream conflicts and the payment decides again', async () => {
    const { store, first, second } = await twoInstances();
    // A live actor on the second instance (a refused refund appends nothing), so that its next
    // decision starts from what it holds: the payment still pending.
    const refund = {
      refundId: 'r',
      amountMinor: 1,
      reason: 'early',
      now: new Date().toISOString(),
    };
    const early = await second.runtime.execute(
      paymentAggregate,
      'p1',
      { type: 'RequestRefund', data: refund },
      testContext(),
    );
    expect(early.ok).toBe(false);
    expect((await payPayment(first, 'p1', 300)).ok).toBe(true);
    const late = await payPayment(second, 'p1', 300);
    expect(late.ok && late.eventCount).toBe(0); // Decided again from the log: already paid.
    expect(await creditCount(store, 'w1', 'topup-p1')).toBe(1);
    expect(await balanceOf(first, 'w1')).toBe(300);
  });

  it("commits the success and its credit once when the callback's replay key was stored first", async () => {
    const { store, first } = await twoInstances();
    // Another delivery stored the replay key (e.g. with a refusal answer): this one still lands.
    await store.appendMulti([], [replayRecord('tx-p1')]);
    const paid = await payPayment(first, 'p1', 300, 'tx-p1', [replayRecord('tx-p1')]);
    expect(paid.ok && paid.state.status).toBe('succeeded');
    expect(await creditCount(store, 'w1', 'topup-p1')).toBe(1);
  });
});
