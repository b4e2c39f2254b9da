import {
  listingCommands,
  purchaseCommands,
  purchaseIdOf,
  stockAccountOf,
  stockViewOf,
} from '../../domain/item/item-sale';
import { paymentIdFor } from '../../domain/payment/payment-id';
import { paymentAggregate, type PaymentCommand } from '../../domain/payment/payment.decider';
import type { StepContext } from '../../sagas/saga-definition';
import { saleSettlementSaga } from '../../sagas/sale-settlement.saga';
import { createLedger, testContext, type Ledger } from '../support/ledger-harness';

const NOW = '2026-12-06T10:05:00.000Z';
const terms = { itemId: 'phone', currency: 'EUR', holdTimeoutMs: 600_000 };

const setUp = async (): Promise<{ harness: Ledger; paymentId: string; holdId: string }> => {
  const harness = createLedger();
  const context = testContext({ now: NOW });
  await harness.ledger.execute({ commands: listingCommands(terms, 1), context, idempotency: null });
  const party = { buyerId: 'alice', merchantId: 'merchant', channel: 'sandbox' as const };
  await harness.ledger.execute({
    commands: purchaseCommands(terms, party),
    context,
    idempotency: null,
  });
  const holdId = purchaseIdOf('phone', 'alice');
  const paymentId = paymentIdFor('merchant', holdId);
  const create: PaymentCommand = {
    type: 'CreatePayment',
    data: {
      paymentId,
      merchantId: 'merchant',
      merchantOrderNo: holdId,
      amountMinor: 19_900,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'Phone',
      creditAccountId: 'sale-revenue-EUR',
      expiresAt: '2026-12-06T10:15:00.000Z',
      now: NOW,
    },
  };
  await harness.runtime.execute(paymentAggregate, paymentId, create, context);
  return { harness, paymentId, holdId };
};

const settle = async (harness: Ledger, paymentId: string, holdId: string) => {
  const saga = saleSettlementSaga({
    runtime: harness.runtime,
    ledger: harness.ledger,
    traffic: harness.traffic,
    gateways: [],
  });
  const step = saga.steps[0];
  if (step === undefined) throw new Error('no step');
  const context: StepContext = {
    sagaId: paymentId,
    input: { paymentId, holdId },
    outputs: {},
    nowMs: Date.parse(NOW),
    commandContext: (label) => testContext({ now: NOW, eventIdSeed: `settle:${label}` }),
  };
  return step.run(context);
};

const record = (harness: Ledger, paymentId: string, command: PaymentCommand) =>
  harness.runtime.execute(paymentAggregate, paymentId, command, testContext({ now: NOW }));

const stock = async (harness: Ledger) =>
  stockViewOf((await harness.ledger.account(stockAccountOf('phone'))).state);

describe('the sale-settlement saga', () => {
  it('starts only for payments whose order number is a purchase hold', () => {
    const saga = saleSettlementSaga({} as never);
    const event = (merchantOrderNo: string) => ({
      id: 'e',
      stream: 'payment-p1',
      revision: 0,
      type: 'PaymentCreated',
      data: {
        paymentId: 'p1',
        merchantId: 'm1',
        merchantOrderNo,
        amountMinor: 19_900,
        currency: 'EUR',
        channel: 'sandbox',
        subject: 'phone',
        creditAccountId: 'wallet-1',
        expiresAt: NOW,
        createdAt: NOW,
      },
      schemaVersion: 1,
      occurredAt: NOW,
    });
    expect(saga.route(event('sale-abc'))).toEqual({
      kind: 'start',
      sagaId: 'p1',
      input: { paymentId: 'p1', holdId: 'sale-abc' },
    });
    expect(saga.route(event('order-17'))).toBeNull();
  });

  it('waits while the payment is pending', async () => {
    const { harness, paymentId, holdId } = await setUp();
    expect(await settle(harness, paymentId, holdId)).toEqual({
      kind: 'wait',
      untilMs: Date.parse('2026-12-06T10:15:00.000Z'),
    });
  });

  it('posts the hold when the payment succeeded: the unit is sold', async () => {
    const { harness, paymentId, holdId } = await setUp();
    await record(harness, paymentId, {
      type: 'RecordChannelResult',
      data: {
        outcome: 'succeeded',
        channelTransactionId: 'tx-1',
        amountMinor: 19_900,
        currency: 'EUR',
        now: NOW,
      },
    });
    expect(await settle(harness, paymentId, holdId)).toMatchObject({
      kind: 'done',
      output: { settled: 'posted' },
    });
    expect(await stock(harness)).toMatchObject({ availableUnits: 0, heldUnits: 0, soldUnits: 1 });
    // Run twice (a redelivery): nothing more happens.
    expect(await settle(harness, paymentId, holdId)).toMatchObject({ kind: 'done' });
    expect((await stock(harness)).soldUnits).toBe(1);
  });

  it('voids the hold when the payment failed: the unit is back in stock', async () => {
    const { harness, paymentId, holdId } = await setUp();
    await record(harness, paymentId, {
      type: 'RecordChannelResult',
      data: {
        outcome: 'failed',
        channelTransactionId: 'tx-1',
        failureReason: 'declined',
        now: NOW,
      },
    });
    expect(await settle(harness, paymentId, holdId)).toMatchObject({
      kind: 'done',
      output: { settled: 'voided', payment: 'failed' },
    });
    expect(await stock(harness)).toMatchObject({ availableUnits: 1, heldUnits: 0, soldUnits: 0 });
  });
});
