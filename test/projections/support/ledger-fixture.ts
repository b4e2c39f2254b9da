import { paymentAggregate } from '../../../domain/payment/payment.decider';
import type { EventStore, JsonObject } from '../../../domain/ports/event-store.port';
import type { ReadModelStore } from '../../../domain/ports/read-model-store.port';
import { trafficAggregate, trafficShardOf } from '../../../domain/traffic/traffic.decider';
import { collectionIn, READ_MODELS } from '../../../projections/read-models';
import { createActorRuntime } from '../../../domain/actors/actor-runtime';
import {
  createLedger,
  openAccount,
  testContext,
  testLimits,
  type Ledger,
} from '../../support/ledger-harness';

export const PAYMENT_ID = '0f7f6d2a-4a7e-5c55-9d3f-6f5b1c2d3e4f';

const at = (minute: number): string => `2026-11-22T10:${String(minute).padStart(2, '0')}:00.000Z`;

const ok = (outcome: { ok: boolean }, what: string): void => {
  if (!outcome.ok) throw new Error(`fixture: ${what} refused`);
};

/**
 * A small but varied history: accounts, single- and two-phase transfers, a payment paid and
 * partly refunded, traffic grants and usage. Commands at minute 10 + i, so that a point in time
 * falls between them.
 */
export const writeHistory = async (store: EventStore): Promise<Ledger> => {
  const ledger = createLedger(store);
  await openAccount(ledger, 'wallet-a');
  await openAccount(ledger, 'wallet-b');
  await openAccount(ledger, 'clearing');
  const transfer = async (
    transferId: string,
    minute: number,
    amountMinor: number,
    mode: 'single_phase' | 'two_phase' = 'single_phase',
  ) =>
    ok(
      await ledger.transfers.request(
        {
          transferId,
          debitAccountId: 'clearing',
          creditAccountId: 'wallet-a',
          amountMinor,
          currency: 'EUR',
          mode,
          timeoutMs: null,
          reference: '',
        },
        testContext({ now: at(minute) }),
      ),
      transferId,
    );
  await transfer('t-1', 11, 1000);
  await transfer('t-2', 12, 250);
  await transfer('t-3', 13, 40, 'two_phase');
  ok(await ledger.transfers.post('t-3', 30, testContext({ now: at(14) })), 'post t-3');
  ok(
    await ledger.transfers.request(
      {
        transferId: 't-4',
        debitAccountId: 'wallet-a',
        creditAccountId: 'wallet-b',
        amountMinor: 300,
        currency: 'EUR',
        mode: 'single_phase',
        timeoutMs: null,
        reference: 'rent',
      },
      testContext({ now: at(15) }),
    ),
    't-4',
  );
  // The payment as an older build recorded it: its success without the credit in its commit
  // (no top_up saga runs here), so the wallet holds only the transfers above.
  const payments = createActorRuntime(store, testLimits);
  const pay = (command: Parameters<typeof ledger.runtime.execute>[2], minute: number) =>
    payments.execute(
      paymentAggregate,
      PAYMENT_ID,
      command as never,
      testContext({ now: at(minute) }),
    );
  const terms = {
    paymentId: PAYMENT_ID,
    merchantId: 'merchant',
    merchantOrderNo: 'order-1',
    amountMinor: 500,
    currency: 'EUR',
    channel: 'sandbox',
    subject: 'tea',
    creditAccountId: 'wallet-b',
    expiresAt: '2026-11-22T12:00:00.000Z',
  };
  ok(await pay({ type: 'CreatePayment', data: { ...terms, now: at(16) } }, 16), 'create payment');
  ok(
    await pay(
      {
        type: 'RecordChannelResult',
        data: {
          outcome: 'succeeded',
          channelTransactionId: 'tx-1',
          amountMinor: 500,
          currency: 'EUR',
          now: at(17),
        },
      },
      17,
    ),
    'pay',
  );
  ok(
    await pay(
      {
        type: 'RequestRefund',
        data: { refundId: 'r-1', amountMinor: 100, reason: 'broken cup', now: at(18) },
      },
      18,
    ),
    'refund',
  );
  await payments.close();
  const traffic = (userId: string, command: unknown, minute: number) =>
    ledger.runtime.execute(
      trafficAggregate,
      trafficShardOf(userId),
      command as never,
      testContext({ now: at(minute) }),
    );
  ok(
    await traffic(
      'user-1',
      {
        type: 'GrantQuota',
        data: { userId: 'user-1', grantId: 'g-1', quotaBytes: 1000, reason: 'plan', now: at(19) },
      },
      19,
    ),
    'grant',
  );
  ok(
    await traffic(
      'user-1',
      {
        type: 'RecordUsage',
        data: {
          reportId: 'u-1',
          nodeId: 'node-1',
          usages: [{ userId: 'user-1', uploadBytes: 100, downloadBytes: 200 }],
          now: at(20),
        },
      },
      20,
    ),
    'usage',
  );
  ok(
    await traffic(
      'user-2',
      {
        type: 'GrantQuota',
        data: { userId: 'user-2', grantId: 'g-2', quotaBytes: 10, reason: 'plan', now: at(21) },
      },
      21,
    ),
    'grant 2',
  );
  ok(
    await traffic(
      'user-2',
      {
        type: 'RecordUsage',
        data: {
          reportId: 'u-2',
          nodeId: 'node-1',
          usages: [{ userId: 'user-2', uploadBytes: 50, downloadBytes: 0 }],
          now: at(22),
        },
      },
      22,
    ),
    'usage 2',
  );
  return ledger;
};

/** Every document of every read model of a generation, by collection, in id order. */
export const dumpGeneration = async (
  store: ReadModelStore,
  generation: number,
): Promise<Record<string, JsonObject[]>> => {
  const dump: Record<string, JsonObject[]> = {};
  for (const projection of READ_MODELS) {
    for (const spec of projection.collections) {
      const found = await store.find(collectionIn(spec.name, generation), {
        where: {},
        range: null,
        orderBy: { field: 'positionKey', direction: 'asc' },
        offset: 0,
        limit: 10_000,
      });
      dump[spec.name] = found.documents;
    }
  }
  return dump;
};

/** One more single-phase transfer of 5 from clearing to wallet-b; returns the log's head after it. */
export const transferToWalletB = async (store: EventStore, transferId: string): Promise<bigint> => {
  const outcome = await createLedger(store).transfers.request(
    {
      transferId,
      debitAccountId: 'clearing',
      creditAccountId: 'wallet-b',
      amountMinor: 5,
      currency: 'EUR',
      mode: 'single_phase',
      timeoutMs: null,
      reference: '',
    },
    testContext(),
  );
  if (!outcome.ok) throw new Error(`${transferId} refused`);
  const head = await store.headPosition();
  if (head === null) throw new Error('empty log');
  return head;
};
