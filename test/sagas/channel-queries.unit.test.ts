import { paymentAggregate } from '../../domain/payment/payment.decider';
import type { ChannelRefundStatus } from '../../domain/ports/payment-channel.port';
import { refundTransferId } from '../../sagas/refund.saga';
import { scriptedGateway, type ScriptedGateway } from './support/scripted-gateway';
import {
  auditBalances,
  balanceOf,
  createPayment,
  creditCount,
  openWallet,
  paidPayment,
  requestRefund,
  startSagaRig,
  topUpStatus,
  waitForSaga,
  type SagaRig,
} from './support/saga-harness';

/**
 * The sagas ask the channel when its callback does not come (lost in a crash): a refund waiting
 * for its result is queried with back-off, a payment at its expiry is queried before it is closed.
 * These channels accept refunds and never call back.
 */
type Queried = ScriptedGateway & { queryRefundCalls: () => number };

/** Refunds accepted (a callback would follow, but never does); queries answered by `answers`. */
const silentChannel = (answers: (call: number) => ChannelRefundStatus): Queried => {
  const scripted = scriptedGateway('sandbox', () => ({ ok: true }));
  let queryRefundCalls = 0;
  return {
    ...scripted,
    refund: async (request) => {
      await scripted.refund(request);
      return { ok: true, value: { status: 'accepted', channelRefundId: null } };
    },
    queryRefund: async () => {
      queryRefundCalls += 1;
      return { ok: true, value: answers(queryRefundCalls) };
    },
    queryRefundCalls: () => queryRefundCalls,
  };
};

const transferStatus = async (rig: SagaRig, transferId: string): Promise<string> =>
  (await rig.ledger.transfer(transferId)).state.status;

describe('sagas asking the channel when its answer does not come', () => {
  let rig: SagaRig | null = null;
  afterEach(async () => {
    await rig?.stop();
    rig = null;
  });

  it('completes a refund the channel reports succeeded when queried, after a pending answer', async () => {
    const gateway = silentChannel((call) =>
      call === 1 ? { status: 'pending' } : { status: 'succeeded', channelRefundId: 'ch-q1' },
    );
    rig = await startSagaRig({ gateway });
    await openWallet(rig, 'wq1');
    await paidPayment(rig, 'pq1', 'wq1', 1000);
    await requestRefund(rig, 'pq1', 'r1', 250);
    const saga = await waitForSaga(rig, 'refund', 'pq1_r1', ['completed', 'compensated']);
    expect(saga.status).toBe('completed');
    expect([gateway.refundCalls(), gateway.queryRefundCalls()]).toEqual([1, 2]);
    const payment = (await rig.runtime.read(paymentAggregate, 'pq1')).state;
    expect(payment.status === 'succeeded' && payment.refunds['r1']).toMatchObject({
      status: 'succeeded',
      channelRefundId: 'ch-q1',
    });
    expect(await balanceOf(rig, 'wq1')).toBe(750);
    expect(await transferStatus(rig, refundTransferId('pq1', 'r1'))).toBe('posted');
    expect(await auditBalances(rig.store)).toMatchObject({ balanced: true, pendingHoldCount: 0 });
  });

  it('compensates a refund the channel reports failed when queried: hold voided, refund failed', async () => {
    const gateway = silentChannel(() => ({ status: 'failed', failureReason: 'REFUNDCLOSE' }));
    rig = await startSagaRig({ gateway });
    await openWallet(rig, 'wq2');
    await paidPayment(rig, 'pq2', 'wq2', 1000);
    await requestRefund(rig, 'pq2', 'r1', 400);
    const saga = await waitForSaga(rig, 'refund', 'pq2_r1', ['completed', 'compensated']);
    expect(saga.status).toBe('compensated');
    if (saga.status !== 'none') expect(saga.reason).toBe('channel_refund_failed: REFUNDCLOSE');
    const payment = (await rig.runtime.read(paymentAggregate, 'pq2')).state;
    expect(payment.status === 'succeeded' && payment.refunds['r1']).toMatchObject({
      status: 'failed',
      failureReason: 'REFUNDCLOSE',
    });
    expect(await balanceOf(rig, 'wq2')).toBe(1000);
    expect(await transferStatus(rig, refundTransferId('pq2', 'r1'))).toBe('voided');
    expect(await auditBalances(rig.store)).toMatchObject({ balanced: true, pendingHoldCount: 0 });
  });

  it('requests again a refund the channel does not know (the request was lost), then completes', async () => {
    const gateway = silentChannel(() => ({ status: 'unknown' }));
    const withMemory: Queried = {
      ...gateway,
      queryRefund: async (query) =>
        gateway.refundCalls() >= 2
          ? { ok: true, value: { status: 'succeeded', channelRefundId: 'ch-q3' } }
          : gateway.queryRefund(query),
    };
    rig = await startSagaRig({ gateway: withMemory });
    await openWallet(rig, 'wq3');
    await paidPayment(rig, 'pq3', 'wq3', 1000);
    await requestRefund(rig, 'pq3', 'r1', 100);
    const saga = await waitForSaga(rig, 'refund', 'pq3_r1', ['completed', 'compensated']);
    expect(saga.status).toBe('completed');
    expect(gateway.refundCalls()).toBe(2);
    expect(await balanceOf(rig, 'wq3')).toBe(900);
  });

  it('records a payment the channel says was paid at its expiry instead of expiring it', async () => {
    const scripted = scriptedGateway('sandbox', () => ({ ok: true }));
    const gateway: ScriptedGateway = {
      ...scripted,
      queryOrder: async () => ({
        ok: true,
        value: {
          status: 'succeeded',
          channelTransactionId: 'tx-lost-callback',
          amountMinor: 700,
          currency: 'EUR',
          paidAt: null,
        },
      }),
    };
    rig = await startSagaRig({ gateway });
    await openWallet(rig, 'wq4');
    await createPayment(rig, 'pq4', { walletId: 'wq4', amountMinor: 700, ttlMs: 300 });
    expect((await waitForSaga(rig, 'payment_expiry', 'pq4', ['completed'])).status).toBe(
      'completed',
    );
    const payment = (await rig.runtime.read(paymentAggregate, 'pq4')).state;
    expect(payment.status === 'succeeded' && payment.paid.channelTransactionId).toBe(
      'tx-lost-callback',
    );
    expect(gateway.closeCalls()).toBe(0);
    // Recorded as if its callback came: credited in the same commit.
    expect(await topUpStatus(rig, 'pq4')).toBe('posted');
    expect(await creditCount(rig.store, 'wq4', 'topup-pq4')).toBe(1);
  });

  it('expires a payment at its expiry when the channel reports another amount (flagged, not credited)', async () => {
    const scripted = scriptedGateway('sandbox', () => ({ ok: true }));
    const gateway: ScriptedGateway = {
      ...scripted,
      queryOrder: async () => ({
        ok: true,
        value: {
          status: 'succeeded',
          channelTransactionId: 'tx-x',
          amountMinor: 1,
          currency: 'EUR',
          paidAt: null,
        },
      }),
    };
    rig = await startSagaRig({ gateway });
    await openWallet(rig, 'wq5');
    await createPayment(rig, 'pq5', { walletId: 'wq5', amountMinor: 700, ttlMs: 300 });
    await waitForSaga(rig, 'payment_expiry', 'pq5', ['completed']);
    const payment = (await rig.runtime.read(paymentAggregate, 'pq5')).state;
    expect(payment.status).toBe('expired');
    expect(payment.status !== 'none' && payment.flags.map((flag) => flag.reason)).toEqual([
      'amount_mismatch',
    ]);
    expect(await balanceOf(rig, 'wq5')).toBe(0);
  });

  it('credits, flagged recovered, a payment paid between its expiry query and the close (close/paid race)', async () => {
    const scripted = scriptedGateway('sandbox', () => ({ ok: true }));
    let queryCount = 0;
    const gateway: ScriptedGateway = {
      ...scripted,
      // Unpaid at the first query; the payer pays; the close is refused; the second query sees it.
      queryOrder: async () => {
        queryCount += 1;
        return queryCount === 1
          ? {
              ok: true,
              value: {
                status: 'pending',
                channelTransactionId: null,
                amountMinor: null,
                currency: null,
                paidAt: null,
              },
            }
          : {
              ok: true,
              value: {
                status: 'succeeded',
                channelTransactionId: 'tx-race',
                amountMinor: 700,
                currency: 'EUR',
                paidAt: null,
              },
            };
      },
      closeOrder: async () => {
        await scripted.closeOrder('pq6');
        return { ok: false, kind: 'permanent', reason: 'ORDERPAID' };
      },
    };
    rig = await startSagaRig({ gateway });
    await openWallet(rig, 'wq6');
    await createPayment(rig, 'pq6', { walletId: 'wq6', amountMinor: 700, ttlMs: 300 });
    await waitForSaga(rig, 'payment_expiry', 'pq6', ['completed']);
    const payment = (await rig.runtime.read(paymentAggregate, 'pq6')).state;
    expect(payment.status === 'succeeded' && payment.paid).toMatchObject({
      channelTransactionId: 'tx-race',
      recovered: true,
    });
    expect([queryCount, gateway.closeCalls()]).toEqual([2, 1]);
    expect(await topUpStatus(rig, 'pq6')).toBe('posted');
    expect(await balanceOf(rig, 'wq6')).toBe(700);
  });

  it('expires on time when the channel does not answer the close, and closes the order later', async () => {
    const scripted = scriptedGateway('sandbox', () => ({ ok: true }));
    let closeCount = 0;
    const gateway: ScriptedGateway = {
      ...scripted,
      closeOrder: async () => {
        closeCount += 1;
        return closeCount === 1
          ? { ok: false, kind: 'transient', reason: 'timeout' }
          : { ok: true, value: { closed: true } };
      },
    };
    rig = await startSagaRig({ gateway });
    await openWallet(rig, 'wq7');
    await createPayment(rig, 'pq7', { walletId: 'wq7', amountMinor: 700, ttlMs: 300 });
    const saga = await waitForSaga(rig, 'payment_expiry', 'pq7', ['completed']);
    expect((await rig.runtime.read(paymentAggregate, 'pq7')).state.status).toBe('expired');
    expect(closeCount).toBe(2);
    expect(JSON.stringify(saga)).toContain('"channelOrderClosed":true');
  });
});
