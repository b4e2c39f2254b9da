import type { EventStore } from '../../domain/ports/event-store.port';
import {
  appendCases,
  concurrentAppendCases,
  idempotentAppendCases,
} from './event-store-contract/append.cases';
import type { ContractContext, ContractOptions } from './event-store-contract/fixtures';
import {
  idempotencyRecordCases,
  multiAppendCases,
} from './event-store-contract/multi-append.cases';
import { globalLogCases, streamReadCases } from './event-store-contract/read.cases';
import { subscribeCases } from './event-store-contract/subscribe.cases';

/**
 * The EventStore port's contract: every adapter runs it unchanged. Each test opens a store and
 * writes to fresh `account-<uuid>` streams, so adapters backed by one shared server can run it
 * too (`sharedLog`: the global log then also holds other tests' events).
 */
export const eventStoreContract = (
  adapterName: string,
  open: () => Promise<EventStore>,
  options: ContractOptions = { sharedLog: false },
): void =>
  describe(`EventStore contract: ${adapterName}`, () => {
    let current: EventStore | null = null;
    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      await current?.close();
      current = null;
    });
    const context: ContractContext = {
      options,
      store: () => {
        if (current === null) throw new Error('contract: no store open');
        return current;
      },
    };
    describe('append', () => appendCases(context));
    describe('idempotent appends', () => idempotentAppendCases(context));
    describe('concurrent appends', () => concurrentAppendCases(context));
    describe('multi-stream appends', () => multiAppendCases(context));
    describe('idempotency records', () => idempotencyRecordCases(context));
    describe('readStream', () => streamReadCases(context));
    describe('global log', () => globalLogCases(context));
    describe('subscribeToAll', () => subscribeCases(context));
  });
