import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { finishLegacyTransfers } from '../../bin/legacy-transfer-upgrade';
import { createLogger } from '../../bin/logger';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.port';
import type { EventStore } from '../../domain/ports/event-store.port';
import { verifyChains } from '../../projections/audit-toolkit';
import {
  LEGACY_EVENTS_FILE_NAME,
  LEGACY_FIXTURE_DIR,
  materializeLegacyDataDir,
} from '../support/legacy-fixture';
import { auditBalances, createLedger, type Ledger } from '../support/ledger-harness';

type Counters = {
  debitsPostedMinor: number;
  creditsPostedMinor: number;
  debitsPendingMinor: number;
  creditsPendingMinor: number;
};
type Expected = {
  balancesBeforeHalfDone: Record<string, Counters>;
  balancesAfterHalfDoneCompleted: Record<string, Counters>;
  halfDoneTransfers: { transferId: string }[];
  transfersBeforeHalfDone: Record<
    string,
    { status: string; postedAmountMinor: number | null; rejection: { reason: string } | null }
  >;
};
const expected = JSON.parse(
  readFileSync(join(LEGACY_FIXTURE_DIR, 'expected.json'), 'utf8'),
) as Expected;

/** Before the 30-day pending transfer of the fixture expires (2027-01-05). */
const NOW_MS = Date.parse('2026-12-06T12:00:00.000Z');
const noCheckpoints: CheckpointStore = {
  load: () => Promise.resolve(null),
  save: () => Promise.resolve(),
};
const quiet = createLogger('error');

const countersOf = async (ledger: Ledger, accountId: string): Promise<Counters> => {
  const { state } = await ledger.ledger.account(accountId);
  if (state.status === 'unopened') throw new Error(`${accountId} unopened`);
  const { debitsPostedMinor, creditsPostedMinor, debitsPendingMinor, creditsPendingMinor } = state;
  return { debitsPostedMinor, creditsPostedMinor, debitsPendingMinor, creditsPendingMinor };
};

const eventCount = async (store: EventStore): Promise<number> =>
  (await store.readAll({ afterPosition: null, eventCountMax: 10_000 })).length;

describe('a data dir written by the four-step version (legacy-v0)', () => {
  let dataDir: string;
  let store: EventStore;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-upgrade-'));
    materializeLegacyDataDir(dataDir);
    store = createSqliteEventStore({ path: join(dataDir, LEGACY_EVENTS_FILE_NAME) });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('folds the old transfers into the statuses the old API reported', async () => {
    const ledger = createLedger(store);
    const halfDone = new Set(expected.halfDoneTransfers.map((entry) => entry.transferId));
    const finished = Object.entries(expected.transfersBeforeHalfDone).filter(
      ([transferId]) => !halfDone.has(transferId),
    );
    expect(finished.length).toBeGreaterThan(8);
    for (const [transferId, old] of finished) {
      const { state } = await ledger.ledger.transfer(transferId);
      expect({ transferId, ...state }).toMatchObject({
        transferId,
        status: old.status,
        postedAmountMinor: old.postedAmountMinor,
        ...(old.rejection === null ? {} : { rejection: { reason: old.rejection.reason } }),
      });
    }
  });

  it('finishes each half-done transfer once, to the balances the old process reached', async () => {
    const ledger = createLedger(store);
    const first = await finishLegacyTransfers({
      store,
      ledger: ledger.ledger,
      checkpoints: noCheckpoints,
      logger: quiet,
      nowMs: () => NOW_MS,
    });
    expect(first).toEqual({ kind: 'finished', finishedCount: 4, refusedCount: 0 });
    for (const [accountId, counters] of Object.entries(expected.balancesAfterHalfDoneCompleted))
      expect({ accountId, ...(await countersOf(ledger, accountId)) }).toEqual({
        accountId,
        ...counters,
      });
    const statuses = await Promise.all(
      [
        'h-requested-only',
        'h-debit-leg-only',
        'h-2p-legs-no-outcome',
        't-usd-2p-post-half-done',
      ].map(async (id) => (await ledger.ledger.transfer(id)).state),
    );
    expect(statuses.map((state) => state.status)).toEqual([
      'posted',
      'posted',
      'pending',
      'posted',
    ]);
    expect(statuses[3]).toMatchObject({ postedAmountMinor: 900 });
    const report = await auditBalances(store);
    expect(report).toMatchObject({ balanced: true, openTransferCount: 0 });
    expect(await verifyChains(store)).toMatchObject({ broken: null });
    const written = await eventCount(store);
    const second = await finishLegacyTransfers({
      store,
      ledger: createLedger(store).ledger,
      checkpoints: noCheckpoints,
      logger: quiet,
      nowMs: () => NOW_MS,
    });
    expect(second).toEqual({ kind: 'already_done' });
    expect(await eventCount(store)).toBe(written);
  });

  it('moves money on the old accounts with the ledger afterwards', async () => {
    const ledger = createLedger(store);
    await finishLegacyTransfers({
      store,
      ledger: ledger.ledger,
      checkpoints: noCheckpoints,
      logger: quiet,
      nowMs: () => NOW_MS,
    });
    const before = await countersOf(ledger, 'eur-alice');
    const outcome = await ledger.transfers.request(
      {
        transferId: 'after-upgrade',
        debitAccountId: 'eur-alice',
        creditAccountId: 'eur-shop',
        amountMinor: 100,
        currency: 'EUR',
        mode: 'single_phase',
        timeoutMs: null,
        reference: '',
      },
      {
        correlationId: 'c',
        causationId: null,
        actor: { clientId: 'admin', role: 'admin', ip: null },
        idempotencyKey: null,
        now: new Date(NOW_MS).toISOString(),
        eventIdSeed: null,
      },
    );
    expect(outcome).toMatchObject({ ok: true, transfer: { status: 'posted' } });
    expect((await countersOf(ledger, 'eur-alice')).debitsPostedMinor).toBe(
      before.debitsPostedMinor + 100,
    );
    expect(await verifyChains(store)).toMatchObject({ broken: null });
  });
});
