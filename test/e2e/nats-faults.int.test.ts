import type { BusMessage, DeliveryOutcome, MessageBus } from '../../domain/ports/bus.port';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import {
  alwaysFails,
  failsThenSucceeds,
  scriptedGateway,
  type ScriptedGateway,
} from '../sagas/support/scripted-gateway';
import {
  allSagas,
  auditBalances,
  balanceOf,
  createPayment,
  creditCount,
  openWallet,
  payPayment,
  requestRefund,
  startSagaRig,
  topUpStatus,
  waitForSaga,
  type SagaRig,
} from '../sagas/support/saga-harness';

/**
 * Fault tests against a real nats-server: after each, every saga is completed or compensated,
 * none applied twice, each paid payment credited exactly once, and Σ balances per currency = 0.
 */
const PAYMENT_COUNT = 20;
const AMOUNT_MINOR = 250;

let server: NatsServer;
let rig: SagaRig | null = null;

beforeAll(async () => {
  server = await startNatsServer();
});
afterEach(async () => {
  await rig?.stop();
  rig = null;
});
afterAll(() => server.stop());

const natsRig = (
  options: { gateway?: ScriptedGateway; wrapBus?: (inner: MessageBus) => MessageBus } = {},
): Promise<SagaRig> => {
  const nats = {
    url: server.url,
    streamName: 'FAULTS',
    retention: 'limits' as const,
    maxAgeMs: 600_000,
    replicas: 1,
    duplicateWindowMs: 120_000,
  };
  // One stream for all tests (JetStream refuses overlapping subjects); durable consumers resume.
  return startSagaRig({ nats, ...options, limits: { relayWindowEventCountMax: 64 } });
};

const payAll = async (
  target: SagaRig,
  prefix: string,
  midway: () => Promise<void>,
): Promise<string[]> => {
  const paymentIds = Array.from({ length: PAYMENT_COUNT }, (_, index) => `${prefix}${index}`);
  for (const [index, paymentId] of paymentIds.entries()) {
    if (index === PAYMENT_COUNT / 2) await midway();
    await createPayment(target, paymentId, {
      walletId: `${prefix}wallet`,
      amountMinor: AMOUNT_MINOR,
    });
    await payPayment(target, paymentId, AMOUNT_MINOR);
  }
  return paymentIds;
};

/** The invariants every fault test ends with. */
const expectSettled = async (
  target: SagaRig,
  prefix: string,
  paymentIds: readonly string[],
  refundedMinor = 0,
): Promise<void> => {
  for (const paymentId of paymentIds) {
    // Credited in the payment's own commit: whatever the bus did, the transfer is posted.
    expect([paymentId, await topUpStatus(target, paymentId)]).toEqual([paymentId, 'posted']);
    expect([
      paymentId,
      await creditCount(target.store, `${prefix}wallet`, `topup-${paymentId}`),
    ]).toEqual([paymentId, 1]);
  }
  expect(await balanceOf(target, `${prefix}wallet`)).toBe(
    AMOUNT_MINOR * paymentIds.length - refundedMinor,
  );
  const statuses = [...(await allSagas(target)).entries()].filter(
    ([stream]) => !stream.startsWith('saga-payment_expiry-'),
  );
  expect(
    statuses.filter(([, status]) => status !== 'completed' && status !== 'compensated'),
  ).toEqual([]);
  expect(await auditBalances(target.store)).toMatchObject({ balanced: true, openTransferCount: 0 });
};

describe('sagas on NATS JetStream under faults', () => {
  jest.setTimeout(60_000);

  it('rides through a nats-server restart mid-flow', async () => {
    rig = await natsRig();
    await openWallet(rig, 'a-wallet');
    const paymentIds = await payAll(rig, 'a-', () => server.restart());
    await expectSettled(rig, 'a-', paymentIds);
  });

  it('recovers flows whose messages were lost when the JetStream store was wiped mid-flow', async () => {
    rig = await natsRig();
    await openWallet(rig, 'b-wallet');
    const paymentIds = await payAll(rig, 'b-', () => server.restart({ wipeStore: true }));
    await expectSettled(rig, 'b-', paymentIds);
  });

  it('applies nothing twice when every message is delivered twice', async () => {
    const twice = (inner: MessageBus): MessageBus => ({
      ...inner,
      publish: inner.publish,
      close: inner.close,
      deadLetterPrefix: inner.deadLetterPrefix,
      consume: (options, handler) =>
        inner.consume(options, async (message: BusMessage): Promise<DeliveryOutcome> => {
          await handler(message);
          return handler({ ...message, deliveryCount: message.deliveryCount + 1 });
        }),
    });
    rig = await natsRig({ wrapBus: twice });
    await openWallet(rig, 'c-wallet');
    const paymentIds = await payAll(rig, 'c-', () => Promise.resolve());
    await expectSettled(rig, 'c-', paymentIds);
  });

  it('reaches the same end when messages are published in reverse order', async () => {
    const reversing = (inner: MessageBus): MessageBus => {
      let held: {
        subject: string;
        id: string;
        payload: Parameters<MessageBus['publish']>[2];
        done: () => void;
      }[] = [];
      const flush = (): void => {
        const batch = held.reverse();
        held = [];
        for (const item of batch)
          void inner.publish(item.subject, item.id, item.payload).then(item.done, item.done);
      };
      return {
        ...inner,
        publish: (subject, id, payload) =>
          new Promise<void>((resolve) => {
            held.push({ subject, id, payload, done: resolve });
            if (held.length === 1) setTimeout(flush, 30);
          }),
      };
    };
    rig = await natsRig({ wrapBus: reversing });
    await openWallet(rig, 'd-wallet');
    const paymentIds = await payAll(rig, 'd-', () => Promise.resolve());
    await expectSettled(rig, 'd-', paymentIds);
  });

  it('retries a refund through a channel failing three times, and compensates one that always fails', async () => {
    const flaky = scriptedGateway('sandbox', (call) =>
      call <= 3 ? failsThenSucceeds(3)(call) : call === 4 ? { ok: true } : alwaysFails(call),
    );
    rig = await natsRig({ gateway: flaky });
    await openWallet(rig, 'e-wallet');
    const paymentIds = await payAll(rig, 'e-', () => Promise.resolve());
    await expectSettled(rig, 'e-', paymentIds);
    await requestRefund(rig, 'e-0', 'r1', 100);
    expect(
      (await waitForSaga(rig, 'refund', 'e-0_r1', ['completed', 'compensated', 'dead_lettered']))
        .status,
    ).toBe('completed');
    await requestRefund(rig, 'e-1', 'r1', 100);
    expect(
      (await waitForSaga(rig, 'refund', 'e-1_r1', ['completed', 'compensated', 'dead_lettered']))
        .status,
    ).toBe('compensated');
    expect(flaky.refundCalls()).toBeGreaterThan(5);
    await expectSettled(rig, 'e-', paymentIds, 100);
  });
});
