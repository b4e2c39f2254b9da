import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { accountAggregate, type AccountConstraint } from '../../domain/account/account.decider';
import {
  createActorRuntime,
  type ActorRuntime,
  type CommandContext,
} from '../../domain/actors/actor-runtime';
import type { EventStore } from '../../domain/ports/event-store.port';
import {
  createTransferProcess,
  type TransferProcess,
} from '../../domain/transfer/transfer.process';

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

export type Ledger = { store: EventStore; runtime: ActorRuntime; transfers: TransferProcess };

/** A runtime and transfer process over `store` (a fresh in-memory store by default). */
export const createLedger = (store: EventStore = createInMemoryEventStore()): Ledger => {
  const runtime = createActorRuntime(store, testLimits);
  return {
    store,
    runtime,
    transfers: createTransferProcess({ runtime, store, legLookupPageEventCountMax: 64 }),
  };
};

export const openAccount = async (
  ledger: Ledger,
  accountId: string,
  options: { currency?: string; constraint?: AccountConstraint } = {},
): Promise<void> => {
  const data = {
    accountId,
    ownerClientId: 'admin',
    currency: options.currency ?? 'EUR',
    constraint: options.constraint ?? 'none',
    metadata: {},
    now: '2026-11-22T10:00:00.000Z',
  };
  const outcome = await ledger.runtime.execute(
    accountAggregate,
    accountId,
    { type: 'OpenAccount', data },
    testContext(),
  );
  if (!outcome.ok) throw new Error(`open ${accountId}: ${outcome.rejection}`);
};

export const balanceOf = async (ledger: Ledger, accountId: string): Promise<number> => {
  const { state } = await ledger.runtime.read(accountAggregate, accountId);
  if (state.status === 'unopened') throw new Error(`${accountId} not opened`);
  return state.creditsPostedMinor - state.debitsPostedMinor;
};

export { auditBalances } from '../../bin/audit-cli';
