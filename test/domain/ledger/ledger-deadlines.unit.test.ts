import { createLedgerDeadlines } from '../../../domain/ledger/ledger-deadlines';
import type { CheckpointStore } from '../../../domain/ports/checkpoint-store.port';
import type { EventStore } from '../../../domain/ports/event-store.port';
import { transferStream } from '../../../domain/transfer/transfer.decider';
import { eventually } from '../../support/eventually';
import { createLedger, openAccount, testContext, type Ledger } from '../../support/ledger-harness';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const TIMEOUT_MS = 60_000;

const memoryCheckpoints = (): CheckpointStore => {
  const saved = new Map<string, bigint>();
  return {
    load: (name) => Promise.resolve(saved.get(name) ?? null),
    save: (name, position) => {
      saved.set(name, position);
      return Promise.resolve();
    },
  };
};

/** A deadline owner over `harness`'s store and ledger, on a clock the test moves. */
const owner = (harness: Ledger, checkpoints: CheckpointStore, clock: { nowMs: number }) =>
  createLedgerDeadlines({
    store: harness.store,
    checkpoints,
    ledger: harness.ledger,
    clock: () => clock.nowMs,
    onError: (transferId, error) => {
      throw new Error(`${transferId}: ${String(error)}`);
    },
    tickMs: 3_600_000, // The test ticks by hand.
    transfersPerTickMax: 100,
  });

const reserve = async (harness: Ledger, transferId: string): Promise<void> => {
  const terms = {
    transferId,
    debitAccountId: 'src',
    creditAccountId: 'dst',
    amountMinor: 50,
    currency: 'EUR',
    mode: 'two_phase' as const,
    timeoutMs: TIMEOUT_MS,
    reference: '',
  };
  const outcome = await harness.transfers.request(
    terms,
    testContext({ now: new Date(T0).toISOString() }),
  );
  expect(outcome).toMatchObject({ ok: true, transfer: { status: 'pending' } });
};

const voidedEvents = async (store: EventStore, transferId: string): Promise<number> => {
  const events = await store.readStream(`transfer-${transferId}`, {
    fromRevision: 0,
    direction: 'forwards',
    eventCountMax: 100,
  });
  return events.filter((event) => event.type === 'TransferVoided').length;
};

/** The status as the log holds it (another instance's ledger may have written it). */
const statusOf = async (harness: Ledger, transferId: string): Promise<string> =>
  (await harness.runtime.read(transferStream, transferId)).state.status;

describe('ledger deadlines: the one owner of pending transfers’ expiry', () => {
  let harness: Ledger;
  beforeEach(async () => {
    harness = createLedger();
    await openAccount(harness, 'src');
    await openAccount(harness, 'dst');
  });

  it('voids a pending transfer once its timeout has passed, not before', async () => {
    const clock = { nowMs: T0 };
    const deadlines = owner(harness, memoryCheckpoints(), clock);
    await deadlines.start();
    await reserve(harness, 't1');
    await eventually(() => (deadlines.openDeadlineCount() === 1 ? true : undefined), {
      timeoutMs: 2000,
      what: 'deadline seen',
    });
    clock.nowMs = T0 + TIMEOUT_MS - 1;
    await deadlines.tick();
    expect(await statusOf(harness, 't1')).toBe('pending');
    clock.nowMs = T0 + TIMEOUT_MS;
    await deadlines.tick();
    expect((await harness.runtime.read(transferStream, 't1')).state).toMatchObject({
      status: 'voided',
      resolution: { kind: 'void', reason: 'expired' },
    });
    await eventually(() => (deadlines.openDeadlineCount() === 0 ? true : undefined), {
      timeoutMs: 2000,
      what: 'deadline closed',
    });
    await deadlines.stop();
  });

  it('voids on, and saves again at the next tick, when a checkpoint save fails (a full disk)', async () => {
    const clock = { nowMs: T0 };
    const saved = memoryCheckpoints();
    let failingSaveCount = 1;
    const checkpoints: CheckpointStore = {
      load: saved.load,
      save: (name, position) => {
        if (failingSaveCount === 0) return saved.save(name, position);
        failingSaveCount -= 1;
        return Promise.reject(new Error('SQLITE_FULL: database or disk is full'));
      },
    };
    const deadlines = owner(harness, checkpoints, clock);
    await deadlines.start();
    await reserve(harness, 't1');
    await eventually(() => (deadlines.openDeadlineCount() === 1 ? true : undefined), {
      timeoutMs: 2000,
      what: 'deadline seen',
    });
    clock.nowMs = T0 + TIMEOUT_MS;
    await expect(deadlines.tick()).resolves.toBeUndefined(); // The failed save is not thrown.
    expect(failingSaveCount).toBe(0);
    expect(await statusOf(harness, 't1')).toBe('voided');
    await deadlines.tick();
    expect(await saved.load('ledger-deadlines')).not.toBeNull();
    await deadlines.stop();
  });

  it('leaves a transfer posted before its deadline posted', async () => {
    const clock = { nowMs: T0 };
    const deadlines = owner(harness, memoryCheckpoints(), clock);
    await deadlines.start();
    await reserve(harness, 't2');
    await harness.transfers.post(
      't2',
      null,
      testContext({ now: new Date(T0 + 1000).toISOString() }),
    );
    clock.nowMs = T0 + 2 * TIMEOUT_MS;
    await deadlines.tick();
    expect(await statusOf(harness, 't2')).toBe('posted');
    await eventually(() => (deadlines.openDeadlineCount() === 0 ? true : undefined), {
      timeoutMs: 2000,
      what: 'deadline closed by the post',
    });
    await deadlines.stop();
  });

  it('sees an open deadline again after a restart, from its checkpoint', async () => {
    const checkpoints = memoryCheckpoints();
    const clock = { nowMs: T0 };
    await reserve(harness, 't3');
    const first = owner(harness, checkpoints, clock);
    await first.start();
    await eventually(() => (first.openDeadlineCount() === 1 ? true : undefined), {
      timeoutMs: 2000,
      what: 'deadline seen',
    });
    await first.tick(); // Not due: saves a checkpoint just before the pending transfer.
    await first.stop();
    await reserve(harness, 't4');
    const restarted = owner(createLedgerOver(harness), checkpoints, clock);
    await restarted.start();
    await eventually(() => (restarted.openDeadlineCount() === 2 ? true : undefined), {
      timeoutMs: 2000,
      what: 'both deadlines seen after the restart',
    });
    clock.nowMs = T0 + TIMEOUT_MS;
    await restarted.tick();
    expect([await statusOf(harness, 't3'), await statusOf(harness, 't4')]).toEqual([
      'voided',
      'voided',
    ]);
    await restarted.stop();
  });

  it('voids once when two instances fire the same deadline', async () => {
    const clock = { nowMs: T0 };
    const other = createLedgerOver(harness);
    const mine = owner(harness, memoryCheckpoints(), clock);
    const theirs = owner(other, memoryCheckpoints(), clock);
    await Promise.all([mine.start(), theirs.start()]);
    await reserve(harness, 't5');
    await eventually(
      () => (mine.openDeadlineCount() + theirs.openDeadlineCount() === 2 ? true : undefined),
      { timeoutMs: 2000, what: 'both see it' },
    );
    clock.nowMs = T0 + TIMEOUT_MS;
    await Promise.all([mine.tick(), theirs.tick()]);
    expect(await voidedEvents(harness.store, 't5')).toBe(1);
    await Promise.all([mine.stop(), theirs.stop()]);
  });
});

/** A second ledger (another instance) over the same store. */
const createLedgerOver = (harness: Ledger): Ledger => createLedger(harness.store);
