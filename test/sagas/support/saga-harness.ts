import { Writable } from 'node:stream';
import { createSqliteEventStore } from '../../../adapters/eventstore/sqlite.event-store';
import {
  createStandaloneCheckpointStore,
  scriptedGateway,
  type ScriptedGateway,
} from './scripted-gateway';
import { createLogger } from '../../../bin/logger';
import type { MessagingLimits } from '../../../bin/config';
import { startMessaging, type RunningMessaging } from '../../../bin/messaging';
import { seedPlans } from '../../../bin/sale';
import type { RouteRegistrar } from '../../../api/route-kit';
import { planRoutes } from '../../../api/routes/plans.route';
import { createItemCatalogue } from '../../../projections/item-catalogue';
import type { NatsSettings } from '../../../bin/messaging-config';
import { paymentAggregate } from '../../../domain/payment/payment.decider';
import type { MessageBus } from '../../../domain/ports/bus.port';
import type { CheckpointStore } from '../../../domain/ports/checkpoint-store.port';
import type { EventStore, IdempotencyRecord } from '../../../domain/ports/event-store.port';
import { sagaAggregate, sagaKey, type SagaState } from '../../../domain/saga/saga.decider';
import { eventually } from '../../support/eventually';
import {
  auditBalances,
  balanceOf,
  createLedger,
  openAccount,
  testContext,
  type Ledger,
} from '../../support/ledger-harness';

/** Fast timings for tests: retries in tens of ms, the sweeper every 50 ms. */
const FAST_LIMITS: Partial<MessagingLimits> = {
  retryPauseMs: 100,
  fetchExpiresMs: 1000,
  backoffMs: [20, 50, 100],
  deliveryCountMax: 4,
  stepAttemptCountMax: 5,
  retryBaseMs: 10,
  retryMaxMs: 80,
  sweepGraceMs: 400,
  sweepTickMs: 50,
  refundResultQueryMinMs: 50,
  refundResultQueryMaxMs: 200,
};

export const PLAN = {
  planId: 'basic',
  name: 'Basic',
  amountMinor: 500,
  currency: 'EUR',
  quotaBytes: 10_000,
  durationDays: 30,
};

export type SagaRig = Ledger & {
  store: EventStore;
  checkpoints: CheckpointStore;
  gateway: ScriptedGateway;
  messaging: RunningMessaging;
  /** The saga routes and the plan catalogue's, seeded with PLAN (bin/sale.ts does the same). */
  routes: readonly RouteRegistrar[];
  logText: () => string;
  stop: () => Promise<void>;
};

export const startSagaRig = async (
  options: {
    store?: EventStore;
    checkpoints?: CheckpointStore;
    gateway?: ScriptedGateway;
    nats?: NatsSettings | null;
    wrapBus?: (inner: MessageBus) => MessageBus;
    clock?: () => number;
    limits?: Partial<MessagingLimits>;
  } = {},
): Promise<SagaRig> => {
  const store = options.store ?? createSqliteEventStore({ path: ':memory:' });
  const ledger = createLedger(store);
  const checkpoints = options.checkpoints ?? createStandaloneCheckpointStore();
  const gateway = options.gateway ?? scriptedGateway('sandbox', () => ({ ok: true }));
  const chunks: string[] = [];
  const logger = createLogger('warn', {
    stream: new Writable({
      write: (chunk: Buffer, _encoding, done) => (chunks.push(chunk.toString()), done()),
    }),
  });
  const messaging = await startMessaging({
    store,
    runtime: ledger.runtime,
    ledger: ledger.ledger,
    traffic: ledger.traffic,
    checkpoints,
    gateways: [gateway],
    nats: options.nats ?? null,
    ...(options.wrapBus === undefined ? {} : { bus: options.wrapBus }),
    logger,
    limits: { ...FAST_LIMITS, ...options.limits },
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  await seedPlans({ runtime: ledger.runtime, plans: [PLAN], nowMs: Date.now(), logger });
  const catalogue = createItemCatalogue({ store });
  catalogue.start();
  const plans = planRoutes({
    runtime: ledger.runtime,
    ledger: ledger.ledger,
    catalogue,
    nowMs: Date.now,
  });
  return {
    ...ledger,
    store,
    checkpoints,
    gateway,
    messaging,
    routes: [...messaging.routes, plans],
    logText: () => chunks.join(''),
    stop: async () => {
      await catalogue.stop();
      await messaging.stop();
      await ledger.runtime.close();
    },
  };
};

const NOW = () => new Date().toISOString();

/** A wallet that may not go negative. */
export const openWallet = (ledger: Ledger, accountId: string): Promise<void> =>
  openAccount(ledger, accountId, { constraint: 'debits_must_not_exceed_credits' });

export const createPayment = async (
  ledger: Ledger,
  paymentId: string,
  options: { walletId: string; amountMinor: number; ttlMs?: number },
): Promise<void> => {
  const data = {
    paymentId,
    merchantId: 'admin',
    merchantOrderNo: paymentId,
    amountMinor: options.amountMinor,
    currency: 'EUR',
    channel: 'sandbox' as const,
    subject: 'top-up',
    creditAccountId: options.walletId,
    expiresAt: new Date(Date.now() + (options.ttlMs ?? 600_000)).toISOString(),
    now: NOW(),
  };
  const outcome = await ledger.runtime.execute(
    paymentAggregate,
    paymentId,
    { type: 'CreatePayment', data },
    testContext({ now: NOW() }),
  );
  if (!outcome.ok) throw new Error(`create payment: ${outcome.rejection}`);
};

/** The channel's success callback, as the callback route records it. */
export const payPayment = async (
  ledger: Ledger,
  paymentId: string,
  amountMinor: number,
  transactionId = `tx-${paymentId}`,
  records: readonly IdempotencyRecord[] = [],
) => {
  const data = {
    outcome: 'succeeded' as const,
    channelTransactionId: transactionId,
    amountMinor,
    currency: 'EUR',
    now: NOW(),
  };
  return ledger.runtime.execute(
    paymentAggregate,
    paymentId,
    { type: 'RecordChannelResult', data },
    { ...testContext({ now: NOW() }), records },
  );
};

export const requestRefund = async (
  ledger: Ledger,
  paymentId: string,
  refundId: string,
  amountMinor: number,
): Promise<void> => {
  const data = { refundId, amountMinor, reason: 'test', now: NOW() };
  const outcome = await ledger.runtime.execute(
    paymentAggregate,
    paymentId,
    { type: 'RequestRefund', data },
    testContext({ now: NOW() }),
  );
  if (!outcome.ok) throw new Error(`refund: ${outcome.rejection}`);
};

const sagaState = async (ledger: Ledger, sagaName: string, sagaId: string): Promise<SagaState> =>
  (await ledger.runtime.read(sagaAggregate, sagaKey(sagaName, sagaId))).state;

/** The saga's state once it reaches one of `statuses`; throws at the deadline. */
export const waitForSaga = async (
  ledger: Ledger,
  sagaName: string,
  sagaId: string,
  statuses: readonly string[],
  timeoutMs = 15_000,
): Promise<SagaState> =>
  eventually(
    async () => {
      const state = await sagaState(ledger, sagaName, sagaId);
      return statuses.includes(state.status) ? state : undefined;
    },
    { timeoutMs, what: `saga ${sagaName} ${sagaId} ${statuses.join(' or ')}`, intervalMs: 20 },
  );

/** How many times the top-up transfer of a payment credited its wallet. */
export const creditCount = async (
  store: EventStore,
  walletId: string,
  transferId: string,
): Promise<number> => {
  const events = await store.readStream(`account-${walletId}`, {
    fromRevision: 0,
    direction: 'forwards',
    eventCountMax: 10_000,
  });
  return events.filter(
    (event) => event.type === 'AccountCredited' && event.data['transferId'] === transferId,
  ).length;
};

/** Every saga stream in the log, with its final status. */
export const allSagas = async (ledger: Ledger): Promise<Map<string, string>> => {
  const statuses = new Map<string, string>();
  let afterPosition: bigint | null = null;
  for (;;) {
    const page = await ledger.store.readAll({ afterPosition, eventCountMax: 1000 });
    for (const event of page) if (event.stream.startsWith('saga-')) statuses.set(event.stream, '');
    const last = page[page.length - 1];
    if (last === undefined) break;
    afterPosition = last.position;
  }
  for (const stream of statuses.keys()) {
    const { state } = await ledger.runtime.read(sagaAggregate, stream.slice('saga-'.length));
    statuses.set(stream, state.status);
  }
  return statuses;
};

export { auditBalances, balanceOf };

/** The status of a payment's top-up transfer as the ledger holds it ('none': not credited). */
export const topUpStatus = async (ledger: Ledger, paymentId: string): Promise<string> =>
  (await ledger.ledger.transfer(`topup-${paymentId}`)).state.status;

/** Closes an account (empty): a credit to it is then refused. */
export const closeAccount = async (ledger: Ledger, accountId: string): Promise<void> => {
  const reply = await ledger.ledger.execute({
    commands: [{ command: { type: 'CloseAccount', data: { accountId } }, linked: false }],
    context: testContext(),
    idempotency: null,
  });
  if (reply.kind !== 'decided' || reply.outcomes[0]?.ok !== true)
    throw new Error(`close ${accountId}: refused`);
};

/** A payment created and paid: its credit commits with the success, so it is there at once. */
export const paidPayment = async (
  ledger: Ledger,
  paymentId: string,
  walletId: string,
  amountMinor: number,
): Promise<void> => {
  await createPayment(ledger, paymentId, { walletId, amountMinor });
  await payPayment(ledger, paymentId, amountMinor);
  const status = await topUpStatus(ledger, paymentId);
  if (status !== 'posted') throw new Error(`payment ${paymentId}: top-up ${status}`);
};
