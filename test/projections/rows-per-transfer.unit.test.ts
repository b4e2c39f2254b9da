import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import type { DocumentChange, ReadModelStore } from '../../domain/ports/read-model-store.port';
import { createLedger, openAccount, testContext } from '../support/ledger-harness';
import { generationOneRunner } from './support/generation-runner';

const TRANSFER_COUNT = 20;

/** The rows each commit writes, by logical collection. */
const recording = (inner: ReadModelStore) => {
  const commits: Record<string, number>[] = [];
  const store: ReadModelStore = {
    ...inner,
    commit: async (changes: readonly DocumentChange[], checkpoint) => {
      const rows: Record<string, number> = {};
      for (const { collection } of changes) {
        const logical = collection.replace(/_g1$/, '');
        rows[logical] = (rows[logical] ?? 0) + 1;
      }
      commits.push(rows);
      await inner.commit(changes, checkpoint);
    },
  };
  return { store, commits };
};

describe('rows the read side writes per transfer', () => {
  it('writes the transfer once, its two entries, each account once per batch, and nothing per event for the audit', async () => {
    const eventStore = createInMemoryEventStore();
    const ledger = createLedger(eventStore);
    await openAccount(ledger, 'payer');
    await openAccount(ledger, 'payee');
    const outcomes = await Promise.all(
      Array.from({ length: TRANSFER_COUNT }, (_, index) =>
        ledger.transfers.request(
          {
            transferId: `t-${index}`,
            debitAccountId: 'payer',
            creditAccountId: 'payee',
            amountMinor: 1,
            currency: 'EUR',
            mode: 'single_phase',
            timeoutMs: null,
            reference: '',
          },
          testContext({
            correlationId: `request-${index}`,
            actor: { clientId: 'merchant', role: 'merchant', ip: null },
          }),
        ),
      ),
    );
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    const { store, commits } = recording(createSqliteReadModelStore({ path: ':memory:' }));
    const runner = await generationOneRunner(eventStore, store, {
      batchEventCountMax: 1000,
      cachedDocumentCountMax: 100,
    });
    const eventCount = await runner.catchUp(
      { untilPosition: null, untilTime: null },
      () => undefined,
    );
    expect(eventCount).toBe(2 + 3 * TRANSFER_COUNT);
    expect(commits).toEqual([
      {
        accounts: 2,
        entries: 2 * TRANSFER_COUNT,
        transfers: TRANSFER_COUNT,
        // A head per request (its correlation) and per batch: the log, the two clients (admin
        // opened the accounts) and the two categories. No chunk fills with 62 events.
        audit_heads: TRANSFER_COUNT + 1 + 1 + 2 + 2,
      },
    ]);
  });
});
