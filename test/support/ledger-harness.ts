import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import type { AccountConstraint } from '../../domain/account/account.decider';
import {
  createActorRuntime,
  type ActorRuntime,
  type CommandContext,
} from '../../domain/actors/actor-runtime';
import type { EventStore } from '../../domain/ports/event-store.port';
import {
  createLedger as createLedgerActor,
  type Ledger as LedgerActor,
} from '../../domain/ledger/ledger';
import type { LedgerCommand, LedgerOutcome } from '../../domain/ledger/ledger.decider';
import { createPaymentCreditAppender } from '../../domain/ledger/payment-credit.appender';
import { paymentAggregate } from '../../domain/payment/payment.decider';
import type { RejectionDetail } from '../../domain/decision';
import { createTrafficWriter, type TrafficWriter } from '../../domain/traffic/traffic-writer';
import type { KnownTransfer, TransferTerms } from '../../domain/transfer/transfer.decider';

export const testLimits = {
  mailboxDepthMax: 10_000,
  batchCommandCountMax: 256,
  conflictRetryCountMax: 3,
  actorCountMax: 10_000,
  idleMsMax: 60_000,
  streamLoadEventCountMax: 500,
};

export const testContext = (overrides: Partial<CommandContext> = {}): CommandContext => ({
  correlationId: 'corr-1',
  causationId: null,
  actor: { clientId: 'admin', role: 'admin', ip: '127.0.0.1' },
  idempotencyKey: null,
  now: '2026-11-22T10:00:00.000Z',
  eventIdSeed: null,
  ...overrides,
});

/** A transfer command's outcome as tests check it: the transfer, or the refusal. */
export type TransferOutcome =
  | { ok: true; transfer: KnownTransfer; position: bigint | null }
  | { ok: false; rejection: string; detail: RejectionDetail; position: bigint | null };

export type Ledger = {
  store: EventStore;
  runtime: ActorRuntime;
  ledger: LedgerActor;
  traffic: TrafficWriter;
  /** The transfer commands one at a time, answered as TransferOutcome. */
  transfers: {
    request(terms: TransferTerms, context: CommandContext): Promise<TransferOutcome>;
    post(id: string, amountMinor: number | null, context: CommandContext): Promise<TransferOutcome>;
    void(id: string, context: CommandContext): Promise<TransferOutcome>;
  };
};

export const testLedgerLimits = {
  mailboxCommandCountMax: 100_000,
  batchCommandCountMax: 16_384,
  conflictRetryCountMax: 3,
  actorCountMax: 10_000,
  idleMsMax: 60_000,
  streamLoadEventCountMax: 500,
};

/** A traffic writer over `store`, no snapshots, the test limits. */
export const trafficWriterOver = (store: EventStore): TrafficWriter =>
  createTrafficWriter({
    store,
    snapshots: null,
    limits: testLedgerLimits,
    onEvent: () => undefined,
  });

/** A runtime and the ledger over `store` (a fresh in-memory store by default). */
export const createLedger = (store: EventStore = createInMemoryEventStore()): Ledger => {
  const ledger = createLedgerActor({
    store,
    snapshots: null,
    limits: testLedgerLimits,
    onEvent: () => undefined,
  });
  const traffic = trafficWriterOver(store);
  // As bin/service.ts wires it: a payment's success commits with its wallet credit.
  const appender = createPaymentCreditAppender({ ledger, store, onEvent: () => undefined });
  const runtime = createActorRuntime(store, testLimits, {
    appenders: new Map([[paymentAggregate.category, appender]]),
  });
  const harness = { store, runtime, ledger, traffic };
  const transferCommand = async (
    command: LedgerCommand,
    context: CommandContext,
  ): Promise<TransferOutcome> => {
    const reply = await ledger.execute({
      commands: [{ command, linked: false }],
      context,
      idempotency: null,
    });
    if (reply.kind !== 'decided') throw new Error('no key was given, none can replay');
    const [outcome] = reply.outcomes;
    const position = reply.position;
    if (outcome === undefined) throw new Error(`${command.type}: no outcome`);
    if (!outcome.ok)
      return { ok: false, rejection: outcome.rejection, detail: outcome.detail, position };
    if (outcome.subject.kind !== 'transfer') throw new Error(`${command.type}: not a transfer`);
    return { ok: true, transfer: outcome.subject.transfer, position };
  };
  return {
    ...harness,
    transfers: {
      request: (terms, context) =>
        transferCommand({ type: 'CreateTransfer', data: terms }, context),
      post: (transferId, amountMinor, context) =>
        transferCommand({ type: 'PostTransfer', data: { transferId, amountMinor } }, context),
      void: (transferId, context) =>
        transferCommand({ type: 'VoidTransfer', data: { transferId, reason: 'voided' } }, context),
    },
  };
};

/** Runs one command through the ledger and returns its outcome. */
const runLedger = async (
  harness: Ledger,
  command: LedgerCommand,
  context: CommandContext = testContext(),
): Promise<LedgerOutcome> => {
  const reply = await harness.ledger.execute({
    commands: [{ command, linked: false }],
    context,
    idempotency: null,
  });
  if (reply.kind !== 'decided') throw new Error('no key was given, none can replay');
  const [outcome] = reply.outcomes;
  if (outcome === undefined) throw new Error(`${command.type}: no outcome`);
  return outcome;
};

export const openAccount = async (
  harness: Ledger,
  accountId: string,
  options: { currency?: string; constraint?: AccountConstraint } = {},
): Promise<void> => {
  const data = {
    accountId,
    ownerClientId: 'admin',
    currency: options.currency ?? 'EUR',
    constraint: options.constraint ?? 'none',
    metadata: {},
  };
  const outcome = await runLedger(harness, { type: 'OpenAccount', data });
  if (!outcome.ok) throw new Error(`open ${accountId}: ${outcome.rejection}`);
};

export const balanceOf = async (harness: Ledger, accountId: string): Promise<number> => {
  const { state } = await harness.ledger.account(accountId);
  if (state.status === 'unopened') throw new Error(`${accountId} not opened`);
  return state.creditsPostedMinor - state.debitsPostedMinor;
};

export { auditBalances } from '../../bin/audit-cli';
