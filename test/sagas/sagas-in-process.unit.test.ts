import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { paymentAggregate } from '../../domain/payment/payment.decider';
import type { MessageBus } from '../../domain/ports/bus.port';
import type { EventStore } from '../../domain/ports/event-store.port';
import {
  trafficAggregate,
  trafficShardOf,
  trafficUserOf,
} from '../../domain/traffic/traffic.decider';
import { sagaAggregate, sagaKey } from '../../domain/saga/saga.decider';
import { PLAN_PURCHASE_SAGA, PLAN_PURCHASE_STEPS } from '../../domain/plan/plan';
import { eventuallyTrue } from '../support/eventually';
import { testContext, testLimits } from '../support/ledger-harness';
import { createActorRuntime } from '../../domain/actors/actor-runtime';
import {
  alwaysFails,
  createStandaloneCheckpointStore,
  failsThenSucceeds,
  scriptedGateway,
  type ScriptedGateway,
} from './support/scripted-gateway';
import {
  PLAN,
  allSagas,
  auditBalances,
  balanceOf,
  closeAccount,
  createPayment,
  creditCount,
  openWallet,
  paidPayment,
  payPayment,
  requestRefund,
  startSagaRig,
  topUpStatus,
  waitForSaga,
  type SagaRig,
} from './support/saga-harness';

const quotaOf = async (rig: SagaRig, userId: string): Promise<number> =>
  trafficUserOf((await rig.runtime.read(trafficAggregate, trafficShardOf(userId))).state, userId)
    .quotaBytes;

const startPurchase = async (rig: SagaRig, purchaseId: string, walletId: string): Promise<void> => {
  const input = {
    purchaseId,
    planId: PLAN.planId,
    walletAccountId: walletId,
    userId: `user-${purchaseId}`,
    amountMinor: PLAN.amountMinor,
    currency: PLAN.currency,
    quotaBytes: PLAN.quotaBytes,
    durationDays: PLAN.durationDays,
    requestedAt: new Date().toISOString(),
  };
  const command = {
    type: 'StartSaga' as const,
    data: {
      sagaName: PLAN_PURCHASE_SAGA,
      sagaId: purchaseId,
      input,
      stepNames: PLAN_PURCHASE_STEPS,
      now: new Date().toISOString(),
    },
  };
  const outcome = await rig.runtime.execute(
    sagaAggregate,
    sagaKey(PLAN_PURCHASE_SAGA, purchaseId),
    command,
    testContext(),
  );
  expect(outcome.ok).toBe(true);
};

describe('sagas over the in-process bus', () => {
  let rig: SagaRig | null = null;
  afterEach(async () => {
    await rig?.stop();
    rig = null;
  });

  it("credits the wallet in the payment's own commit, once however often the callback repeats; the saga records nothing", async () => {
    const inner = createSqliteEventStore({ path: ':memory:' });
    const commits: string[][] = [];
    const store: EventStore = {
      ...inner,
      appendMulti: async (appends, records) => {
        const result = await inner.appendMulti(appends, records);
        if (result.ok)
          commits.push([...appends.map((append) => append.stream), ...records.map((r) => r.key)]);
        return result;
      },
    };
    rig = await startSagaRig({ store });
    await openWallet(rig, 'w1');
    await createPayment(rig, 'p1', { walletId: 'w1', amountMinor: 1200 });
    const replayKey = { scope: 'callback:sandbox', key: 'tx-p1', fingerprint: 'f', createdAtMs: 0 };
    const record = { ...replayKey, response: { status: 200, body: null, headers: {} } };
    const first = await payPayment(rig, 'p1', 1200, 'tx-p1', [record]);
    await payPayment(rig, 'p1', 1200);
    // Visible when the success is acknowledged: no relay, bus or saga in between.
    expect(first.ok && first.state.status).toBe('succeeded');
    expect(await balanceOf(rig, 'w1')).toBe(1200);
    expect(await creditCount(rig.store, 'w1', 'topup-p1')).toBe(1);
    const paid = commits.filter((streams) => streams.includes('payment-p1'));
    expect(paid).toEqual([
      ['account-clearing-sandbox-EUR', 'account-w1', 'transfer-topup-p1', 'payment-p1', 'tx-p1'],
    ]);
    // One commit: the transfer, its legs and the success at consecutive positions.
    const log = await rig.store.readAll({ afterPosition: null, eventCountMax: 1000 });
    const positions = log
      .filter(
        (event) =>
          ['transfer-topup-p1', 'account-w1', 'payment-p1'].includes(event.stream) &&
          event.type !== 'AccountOpened' &&
          event.type !== 'PaymentCreated',
      )
      .map((event) => event.position);
    const firstPosition = positions[0] ?? -1n;
    expect(positions.map((position) => position - firstPosition)).toEqual(
      positions.map((_position, index) => BigInt(index)),
    );
    // The positive signal: a later payment whose credit the ledger refuses goes to the saga
    // (the relay carries events in log order): p1's success was delivered before it.
    await openWallet(rig, 'w1-closed');
    await createPayment(rig, 'p1-refused', { walletId: 'w1-closed', amountMinor: 5 });
    await closeAccount(rig, 'w1-closed');
    const refused = await payPayment(rig, 'p1-refused', 5);
    expect(refused.ok && refused.state.status).toBe('succeeded');
    const refusedSaga = await waitForSaga(rig, 'top_up', 'p1-refused', ['compensated']);
    expect(refusedSaga.status).toBe('compensated');
    expect(await creditCount(rig.store, 'w1-closed', 'topup-p1-refused')).toBe(0);
    expect([...(await allSagas(rig)).keys()]).not.toContain('saga-top_up-p1');
    expect((await auditBalances(rig.store)).balanced).toBe(true);
  });

  it('commits a success alone when the ledger refuses its credit, and the top-up saga takes it', async () => {
    rig = await startSagaRig();
    await openWallet(rig, 'w9');
    await createPayment(rig, 'p9', { walletId: 'w9', amountMinor: 700 });
    await closeAccount(rig, 'w9');
    const before = await rig.store.readAll({ afterPosition: null, eventCountMax: 1000 });
    await payPayment(rig, 'p9', 700);
    const after = await rig.store.readAll({
      afterPosition: before[before.length - 1]?.position ?? null,
      eventCountMax: 1000,
    });
    const written = after.filter((event) => !event.stream.startsWith('saga-'));
    expect(written.map((event) => [event.stream, event.type])).toEqual([
      ['payment-p9', 'PaymentSucceeded'],
    ]);
    expect(await topUpStatus(rig, 'p9')).toBe('none');
    // As before this change: the saga's step asks the ledger, which refuses the closed wallet.
    const saga = await waitForSaga(rig, 'top_up', 'p9', ['compensated']);
    expect(saga.status === 'compensated' && saga.reason).toBe('account_closed');
    expect(await topUpStatus(rig, 'p9')).toBe('rejected');
  });

  it('credits through the saga a success recorded by an older build (no credit in its commit), once', async () => {
    rig = await startSagaRig();
    await openWallet(rig, 'w10');
    // An older build's runtime (another process): the payment's batches go straight to the store.
    const older = createActorRuntime(rig.store, testLimits);
    await createPayment({ ...rig, runtime: older }, 'p10', { walletId: 'w10', amountMinor: 900 });
    const paid = await older.execute(
      paymentAggregate,
      'p10',
      {
        type: 'RecordChannelResult',
        data: {
          outcome: 'succeeded',
          channelTransactionId: 'tx-p10',
          amountMinor: 900,
          currency: 'EUR',
          now: new Date().toISOString(),
        },
      },
      testContext(),
    );
    await older.close();
    expect(paid.ok && paid.state.status).toBe('succeeded');
    expect((await waitForSaga(rig, 'top_up', 'p10', ['completed'])).status).toBe('completed');
    expect(await creditCount(rig.store, 'w10', 'topup-p10')).toBe(1);
    expect((await auditBalances(rig.store)).balanced).toBe(true);
  });

  it('refunds through the channel: reserve, ask (3 transient failures, then success), post, settle', async () => {
    rig = await startSagaRig({ gateway: scriptedGateway('sandbox', failsThenSucceeds(3)) });
    await openWallet(rig, 'w2');
    await paidPayment(rig, 'p2', 'w2', 1000);
    await requestRefund(rig, 'p2', 'r1', 400);
    const saga = await waitForSaga(rig, 'refund', 'p2_r1', [
      'completed',
      'compensated',
      'dead_lettered',
    ]);
    expect(saga.status).toBe('completed');
    if (saga.status !== 'none')
      expect(saga.steps.find((step) => step.name === 'ask_channel')?.retryCount).toBe(3);
    expect(rig.gateway.refundCalls()).toBe(4);
    expect(await balanceOf(rig, 'w2')).toBe(600);
    const payment = (await rig.runtime.read(paymentAggregate, 'p2')).state;
    expect(payment.status === 'succeeded' && payment.refunds['r1']?.status).toBe('succeeded');
    expect((await auditBalances(rig.store)).balanced).toBe(true);
  });

  it('compensates a refund the channel always fails: reservation voided, refund marked failed', async () => {
    rig = await startSagaRig({ gateway: scriptedGateway('sandbox', alwaysFails) });
    await openWallet(rig, 'w3');
    await paidPayment(rig, 'p3', 'w3', 1000);
    await requestRefund(rig, 'p3', 'r1', 1000);
    const saga = await waitForSaga(rig, 'refund', 'p3_r1', [
      'completed',
      'compensated',
      'failed',
      'dead_lettered',
    ]);
    expect(saga.status).toBe('compensated');
    if (saga.status !== 'none') expect(saga.reason).toMatch(/^retries_exhausted/);
    expect(await balanceOf(rig, 'w3')).toBe(1000);
    const payment = (await rig.runtime.read(paymentAggregate, 'p3')).state;
    expect(payment.status === 'succeeded' && payment.refunds['r1']?.status).toBe('failed');
    const report = await auditBalances(rig.store);
    expect(report).toMatchObject({ balanced: true, openTransferCount: 0 });
  });

  it('buys a plan: hold, grant quota, capture; a refused hold (no funds) compensates', async () => {
    rig = await startSagaRig();
    await openWallet(rig, 'w4');
    await paidPayment(rig, 'p4', 'w4', 800);
    await startPurchase(rig, 'buy1', 'w4');
    expect(
      (await waitForSaga(rig, PLAN_PURCHASE_SAGA, 'buy1', ['completed', 'compensated'])).status,
    ).toBe('completed');
    expect(await balanceOf(rig, 'w4')).toBe(300);
    expect(await quotaOf(rig, 'user-buy1')).toBe(PLAN.quotaBytes);
    await startPurchase(rig, 'buy2', 'w4');
    const refused = await waitForSaga(rig, PLAN_PURCHASE_SAGA, 'buy2', [
      'completed',
      'compensated',
    ]);
    expect(refused.status).toBe('compensated');
    if (refused.status !== 'none') expect(refused.reason).toBe('insufficient_funds');
    expect(await quotaOf(rig, 'user-buy2')).toBe(0);
    expect(await balanceOf(rig, 'w4')).toBe(300);
  });

  it('expires an unpaid payment, closes its channel order, and flags a late success instead of crediting it', async () => {
    // The sagas' clock jumps past the payment's expiry: no test waits for a TTL to run out.
    let aheadMs = 0;
    // `payment-<id>` of each flag the audit's consumer acknowledged.
    const flagsHandled = new Set<string>();
    const wrapBus = (inner: MessageBus): MessageBus => ({
      ...inner,
      publish: (...args) => inner.publish(...args),
      consume: (options, handler) =>
        inner.consume(options, async (message) => {
          const outcome = await handler(message);
          const stream = message.payload['stream'];
          if (options.durableName === 'audit_flags' && typeof stream === 'string')
            flagsHandled.add(stream);
          return outcome;
        }),
      close: () => inner.close(),
    });
    rig = await startSagaRig({ clock: () => Date.now() + aheadMs, wrapBus });
    await openWallet(rig, 'w5');
    await createPayment(rig, 'p5', { walletId: 'w5', amountMinor: 700, ttlMs: 600_000 });
    expect((await rig.runtime.read(paymentAggregate, 'p5')).state.status).toBe('pending');
    aheadMs = 600_000;
    expect((await waitForSaga(rig, 'payment_expiry', 'p5', ['completed'])).status).toBe(
      'completed',
    );
    expect((await rig.runtime.read(paymentAggregate, 'p5')).state.status).toBe('expired');
    expect(rig.gateway.closeCalls()).toBe(1);
    const late = await payPayment(rig, 'p5', 700);
    expect(
      late.ok && late.state.status !== 'none' && late.state.flags.map((flag) => flag.reason),
    ).toEqual(['paid_after_close']);
    // The positive signal: the late success's flag went over the bus (no success event exists).
    await eventuallyTrue(() => flagsHandled.has('payment-p5'), {
      timeoutMs: 5000,
      what: "the late success's flag handled on the bus",
    });
    expect(await balanceOf(rig, 'w5')).toBe(0);
    expect([...(await allSagas(rig)).keys()]).not.toContain('saga-top_up-p5');
  });

  it('touches no expiry saga when a payment is paid, and starts none when its deadline passes', async () => {
    let aheadMs = 0;
    rig = await startSagaRig({ clock: () => Date.now() + aheadMs });
    await openWallet(rig, 'w6');
    await createPayment(rig, 'p6', { walletId: 'w6', amountMinor: 100, ttlMs: 600_000 });
    await payPayment(rig, 'p6', 100);
    await createPayment(rig, 'p6-unpaid', { walletId: 'w6', amountMinor: 100, ttlMs: 600_000 });
    aheadMs = 600_000;
    // The positive signal: the unpaid payment of the same deadline was expired by its saga.
    await waitForSaga(rig, 'payment_expiry', 'p6-unpaid', ['completed']);
    expect((await rig.runtime.read(paymentAggregate, 'p6-unpaid')).state.status).toBe('expired');
    expect((await rig.runtime.read(paymentAggregate, 'p6')).state.status).toBe('succeeded');
    expect([...(await allSagas(rig)).keys()]).toEqual(['saga-payment_expiry-p6-unpaid']);
    expect(await balanceOf(rig, 'w6')).toBe(100);
  });

  it('expires after a restart a payment whose deadline passed while the service was down: the sweeper keeps its checkpoint before the payment', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    const checkpoints = createStandaloneCheckpointStore();
    const first = await startSagaRig({ store, checkpoints });
    await openWallet(first, 'w11');
    await createPayment(first, 'p11', { walletId: 'w11', amountMinor: 100, ttlMs: 600_000 });
    await paidPayment(first, 'p11-paid', 'w11', 100);
    const [created] = await store.readStream('payment-p11', {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 1,
    });
    const createdAt = created?.position ?? -1n;
    // The positive signal: the sweeper saw p11's creation and holds its checkpoint just before it.
    await eventuallyTrue(async () => (await checkpoints.load('saga-sweeper')) === createdAt - 1n, {
      timeoutMs: 5000,
      what: "the sweeper's checkpoint held before the unpaid payment",
    });
    await first.stop();
    rig = await startSagaRig({ store, checkpoints, clock: () => Date.now() + 600_000 });
    await waitForSaga(rig, 'payment_expiry', 'p11', ['completed']);
    expect((await rig.runtime.read(paymentAggregate, 'p11')).state.status).toBe('expired');
    expect([...(await allSagas(rig)).keys()]).toEqual(['saga-payment_expiry-p11']);
  });

  it('ends at its deadline an expiry saga an older build started at creation, for a payment paid since', async () => {
    let aheadMs = 0;
    rig = await startSagaRig({ clock: () => Date.now() + aheadMs });
    await openWallet(rig, 'w9');
    await createPayment(rig, 'p9', { walletId: 'w9', amountMinor: 100, ttlMs: 600_000 });
    // As an older build did: the saga started with the payment, waiting on its deadline.
    const start = {
      sagaName: 'payment_expiry',
      sagaId: 'p9',
      input: { paymentId: 'p9' },
      stepNames: ['expire', 'close_channel_order'],
      now: new Date().toISOString(),
    };
    const started = await rig.runtime.execute(
      sagaAggregate,
      sagaKey('payment_expiry', 'p9'),
      { type: 'StartSaga', data: start },
      testContext(),
    );
    expect(started.ok).toBe(true);
    const { runtime } = rig;
    await eventuallyTrue(
      async () => {
        const { state } = await runtime.read(sagaAggregate, sagaKey('payment_expiry', 'p9'));
        return state.status === 'running' && state.waitingOnTimer;
      },
      { timeoutMs: 5000, what: 'the old saga waiting on the payment deadline' },
    );
    await payPayment(rig, 'p9', 100);
    aheadMs = 600_000;
    const saga = await waitForSaga(rig, 'payment_expiry', 'p9', ['completed']);
    expect(JSON.stringify(saga)).toContain('"expired":false');
    expect((await rig.runtime.read(paymentAggregate, 'p9')).state.status).toBe('succeeded');
    expect(await balanceOf(rig, 'w9')).toBe(100);
  });

  it("reads no flash-sale saga for a top-up's success (no such saga can exist)", async () => {
    const inner = createSqliteEventStore({ path: ':memory:' });
    const sagaReads: string[] = [];
    const store: EventStore = {
      ...inner,
      readStream: (stream, options) => {
        if (stream.startsWith('saga-sale_settlement-')) sagaReads.push(stream);
        return inner.readStream(stream, options);
      },
    };
    // The subjects the flash-sale saga's consumer acknowledged, per stream.
    const handled: string[] = [];
    const wrapBus = (bus: MessageBus): MessageBus => ({
      ...bus,
      publish: (...args) => bus.publish(...args),
      consume: (options, handler) =>
        bus.consume(options, async (message) => {
          const outcome = await handler(message);
          if (options.durableName === 'saga_sale_settlement')
            handled.push(`${String(message.payload['stream'])} ${message.subject}`);
          return outcome;
        }),
      close: () => bus.close(),
    });
    rig = await startSagaRig({ store, wrapBus });
    await openWallet(rig, 'w10');
    await paidPayment(rig, 'p10', 'w10', 100);
    await eventuallyTrue(
      () => handled.includes('payment-p10 ledger.events.payment.PaymentSucceeded'),
      { timeoutMs: 5000, what: "the success handled by the flash-sale saga's consumer" },
    );
    expect(sagaReads).toEqual([]);
  });

  it('finishes a refund the channel answers later as soon as the answer is recorded', async () => {
    const scripted = scriptedGateway('sandbox', () => ({ ok: true }));
    const gateway: ScriptedGateway = {
      ...scripted,
      refund: async (request) => {
        await scripted.refund(request);
        return { ok: true, value: { status: 'accepted', channelRefundId: null } };
      },
    };
    // A poll of an hour: only the answer's event can finish the saga within the test.
    rig = await startSagaRig({ gateway, limits: { refundResultQueryMinMs: 3_600_000 } });
    await openWallet(rig, 'w8');
    await paidPayment(rig, 'p8', 'w8', 300);
    await requestRefund(rig, 'p8', 'r8', 120);
    await eventuallyTrue(() => scripted.refundCalls() > 0, {
      timeoutMs: 5000,
      what: 'the refund asked of the channel',
    });
    const callback = {
      refundId: 'r8',
      outcome: 'succeeded' as const,
      channelRefundId: 'ch-r8',
      now: new Date().toISOString(),
    };
    const recorded = await rig.runtime.execute(
      paymentAggregate,
      'p8',
      { type: 'RecordRefundResult', data: callback },
      testContext(),
    );
    expect(recorded.ok).toBe(true);
    const saga = await waitForSaga(rig, 'refund', 'p8_r8', ['completed'], 5_000);
    expect(saga.status).toBe('completed');
    expect(await balanceOf(rig, 'w8')).toBe(180);
  });

  it('leaves every saga completed or compensated and the books balanced', async () => {
    rig = await startSagaRig();
    await openWallet(rig, 'w7');
    for (let index = 0; index < 5; index += 1)
      await paidPayment(rig, `q${index}`, 'w7', 100 + index);
    await requestRefund(rig, 'q0', 'r', 50);
    await waitForSaga(rig, 'refund', 'q0_r', ['completed']);
    const statuses = [...(await allSagas(rig)).entries()].filter(
      ([stream]) => !stream.startsWith('saga-payment_expiry-'),
    );
    expect(statuses.every(([, status]) => status === 'completed')).toBe(true);
    // The refund's saga only: the five credits committed with their payments' successes.
    expect(statuses.map(([stream]) => stream)).toEqual(['saga-refund-q0_r']);
    expect((await auditBalances(rig.store)).balanced).toBe(true);
  });
});
