import { createSqliteEventStore } from '../../../adapters/eventstore/sqlite.event-store';
import {
  channelLogAggregate,
  type ChannelLogEvent,
} from '../../../domain/payment/channel-log.decider';
import { recordChannelFact, systemContext } from '../../../domain/payment/channel-log.record';
import { paymentAggregate } from '../../../domain/payment/payment.decider';
import { loadLedgerPayments } from '../../../domain/reconciliation/ledger-payments';
import { createLedger } from '../../support/ledger-harness';
import { deciderSpec } from '../../support/decider-spec';

const given = deciderSpec(channelLogAggregate);
const call: ChannelLogEvent = {
  type: 'ChannelCallRecorded',
  data: {
    channel: 'wechat',
    operation: 'refund',
    paymentId: 'p',
    refundId: 'r',
    outcome: 'transient',
    reason: 'timeout',
    attemptCount: 4,
    durationMs: 12,
  },
};

describe('channel log', () => {
  it('keeps every fact it is given, in order', () => {
    given([call]).when({ type: 'RecordChannelFact', data: call }).then([call]);
    given([call, call])
      .when({ type: 'RecordChannelFact', data: call })
      .thenState((state) => expect(state.eventCount).toBe(3));
  });

  it('appends facts through the actor runtime with a sealed chain', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    const { runtime } = createLedger(store);
    await recordChannelFact(runtime, 'p-1', call, systemContext('c-1', '2025-03-01T10:00:00.000Z'));
    await recordChannelFact(runtime, 'p-1', call, systemContext('c-2', '2025-03-01T10:00:01.000Z'));
    const events = await store.readStream('channellog-p-1', {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(events.map((event) => [event.type, event.metadata.actor.clientId])).toEqual([
      ['ChannelCallRecorded', 'system:channels'],
      ['ChannelCallRecorded', 'system:channels'],
    ]);
  });
});

describe('ledger payments for a reconciliation', () => {
  it('folds the payments of one channel from the log across pages', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    const { runtime } = createLedger(store);
    const context = systemContext('c', '2025-03-01T10:00:00.000Z');
    const terms = {
      merchantId: 'm',
      amountMinor: 100,
      currency: 'EUR',
      subject: 's',
      creditAccountId: 'a',
      expiresAt: '2025-03-01T11:00:00.000Z',
      now: '2025-03-01T10:00:00.000Z',
    };
    for (const [paymentId, channel] of [
      ['p-1', 'sandbox'],
      ['p-2', 'sandbox'],
      ['p-3', 'wechat'],
    ] as const) {
      await runtime.execute(
        paymentAggregate,
        paymentId,
        {
          type: 'CreatePayment',
          data: { ...terms, paymentId, merchantOrderNo: paymentId, channel },
        },
        context,
      );
    }
    await runtime.execute(
      paymentAggregate,
      'p-1',
      {
        type: 'RecordChannelResult',
        data: {
          outcome: 'succeeded',
          channelTransactionId: 'tx',
          amountMinor: 100,
          currency: 'EUR',
          now: '2025-03-01T10:01:00.000Z',
        },
      },
      context,
    );
    const payments = await loadLedgerPayments(store, 'sandbox', 2);
    expect(
      payments.map((payment) => [
        payment.paymentId,
        payment.status,
        payment.channelTransactionId,
        payment.paidAt,
      ]),
    ).toEqual([
      ['p-1', 'succeeded', 'tx', '2025-03-01T10:01:00.000Z'],
      ['p-2', 'pending', null, null],
    ]);
  });
});
