import fc from 'fast-check';
import { createInMemoryEventStore } from '../../../adapters/eventstore/in-memory.event-store';
import { UnavailableError, type EventStore } from '../../../domain/ports/event-store.port';
import type { TransferTerms } from '../../../domain/transfer/transfer.decider';
import {
  auditBalances,
  balanceOf,
  createLedger,
  openAccount,
  testContext,
  type Ledger,
} from '../../support/ledger-harness';

const terms = (
  transferId: string,
  debitAccountId: string,
  creditAccountId: string,
  amountMinor: number,
  overrides: Partial<TransferTerms> = {},
): TransferTerms => ({
  transferId,
  debitAccountId,
  creditAccountId,
  amountMinor,
  currency: 'EUR',
  mode: 'single_phase',
  timeoutMs: null,
  reference: '',
  ...overrides,
});

/** A funded wallet: clearing (unconstrained) → wallet (must not go negative). */
const fundedWallet = async (
  ledger: Ledger,
  walletId: string,
  amountMinor: number,
): Promise<void> => {
  await openAccount(ledger, `clearing-${walletId}`);
  await openAccount(ledger, walletId, { constraint: 'debits_must_not_exceed_credits' });
  const funded = await ledger.transfers.request(
    terms(`fund-${walletId}`, `clearing-${walletId}`, walletId, amountMinor),
    testContext(),
  );
  expect(funded.ok && funded.transfer.status).toBe('posted');
};

describe('transfer process', () => {
  it('posts a single-phase transfer on both legs', async () => {
    const ledger = createLedger();
    await fundedWallet(ledger, 'alice', 1000);
    await openAccount(ledger, 'bob');
    const outcome = await ledger.transfers.request(terms('t1', 'alice', 'bob', 400), testContext());
    expect(outcome.ok && outcome.transfer.status).toBe('posted');
    expect(outcome.ok && outcome.position).not.toBeNull();
    expect([await balanceOf(ledger, 'alice'), await balanceOf(ledger, 'bob')]).toEqual([600, 400]);
    expect((await auditBalances(ledger.store)).balanced).toBe(true);
  });

  it('records a refused debit and keeps it refused on retry', async () => {
    const ledger = createLedger();
    await fundedWallet(ledger, 'alice', 100);
    await openAccount(ledger, 'bob');
    const first = await ledger.transfers.request(terms('t1', 'alice', 'bob', 101), testContext());
    expect(first.ok && first.transfer.rejection).toEqual({
      reason: 'insufficient_funds',
      side: 'debit',
    });
    await fundedWallet(ledger, 'alice-topup', 1);
    const retry = await ledger.transfers.request(terms('t1', 'alice', 'bob', 101), testContext());
    expect(retry.ok && retry.transfer.status).toBe('rejected');
    expect(await balanceOf(ledger, 'alice')).toBe(100);
  });

  it('refuses a retry with a different amount, naming the field', async () => {
    const ledger = createLedger();
    await fundedWallet(ledger, 'alice', 100);
    await openAccount(ledger, 'bob');
    await ledger.transfers.request(terms('t1', 'alice', 'bob', 10), testContext());
    const retry = await ledger.transfers.request(terms('t1', 'alice', 'bob', 11), testContext());
    expect(retry).toMatchObject({
      ok: false,
      rejection: 'transfer_id_conflict',
      detail: { field: 'amountMinor' },
    });
    expect(await balanceOf(ledger, 'bob')).toBe(10);
  });

  it('compensates the debit when the credit side refuses', async () => {
    const ledger = createLedger();
    await fundedWallet(ledger, 'alice', 100);
    await openAccount(ledger, 'dollar', { currency: 'USD' });
    const outcome = await ledger.transfers.request(
      terms('t1', 'alice', 'dollar', 60),
      testContext(),
    );
    expect(outcome.ok && outcome.transfer.rejection).toEqual({
      reason: 'currency_mismatch',
      side: 'credit',
    });
    expect(await balanceOf(ledger, 'alice')).toBe(100);
    expect(await auditBalances(ledger.store)).toMatchObject({
      balanced: true,
      openTransferCount: 0,
    });
  });

  it('reserves, partially posts and refuses a second resolution of a two-phase transfer', async () => {
    const ledger = createLedger();
    await fundedWallet(ledger, 'alice', 1000);
    await openAccount(ledger, 'shop');
    const pending = await ledger.transfers.request(
      terms('t2', 'alice', 'shop', 700, { mode: 'two_phase' }),
      testContext(),
    );
    expect(pending.ok && pending.transfer.status).toBe('pending');
    const blocked = await ledger.transfers.request(
      terms('t3', 'alice', 'shop', 301),
      testContext(),
    );
    expect(blocked.ok && blocked.transfer.rejection?.reason).toBe('insufficient_funds');
    const posted = await ledger.transfers.post('t2', 500, testContext());
    expect(posted.ok && posted.transfer).toMatchObject({
      status: 'posted',
      postedAmountMinor: 500,
    });
    expect(await ledger.transfers.void('t2', 'voided', testContext())).toMatchObject({
      ok: false,
      rejection: 'transfer_already_posted',
    });
    expect([await balanceOf(ledger, 'alice'), await balanceOf(ledger, 'shop')]).toEqual([500, 500]);
    expect((await auditBalances(ledger.store)).balanced).toBe(true);
  });

  it('voids a two-phase transfer and releases the reservation', async () => {
    const ledger = createLedger();
    await fundedWallet(ledger, 'alice', 1000);
    await openAccount(ledger, 'shop');
    await ledger.transfers.request(
      terms('t2', 'alice', 'shop', 1000, { mode: 'two_phase', timeoutMs: 1000 }),
      testContext(),
    );
    const voided = await ledger.transfers.void('t2', 'voided', testContext());
    expect(voided.ok && voided.transfer.status).toBe('voided');
    const spend = await ledger.transfers.request(terms('t3', 'alice', 'shop', 1000), testContext());
    expect(spend.ok && spend.transfer.status).toBe('posted');
  });

  it.each(['credit', 'outcome'] as const)(
    'resumes after a crash before the %s step without applying a leg twice',
    async (crashAt) => {
      const durable = createInMemoryEventStore();
      const setup = createLedger(durable);
      await fundedWallet(setup, 'alice', 1000);
      await openAccount(setup, 'bob');
      let crashed = false;
      const crashing: EventStore = {
        ...durable,
        append: (stream, events, expected) => {
          const hit =
            crashAt === 'credit'
              ? stream === 'account-bob'
              : events.some((event) => event.type === 'TransferPosted');
          if (hit && !crashed) {
            crashed = true;
            return Promise.reject(new UnavailableError('power cut'));
          }
          return durable.append(stream, events, expected);
        },
      };
      await expect(
        createLedger(crashing).transfers.request(terms('t1', 'alice', 'bob', 300), testContext()),
      ).rejects.toThrow('power cut');
      const restarted = createLedger(durable);
      const resumed = await restarted.transfers.request(
        terms('t1', 'alice', 'bob', 300),
        testContext(),
      );
      expect(resumed.ok && resumed.transfer.status).toBe('posted');
      expect([await balanceOf(restarted, 'alice'), await balanceOf(restarted, 'bob')]).toEqual([
        700, 300,
      ]);
      expect(await auditBalances(durable)).toMatchObject({ balanced: true, openTransferCount: 0 });
    },
  );

  it('keeps Σ credits − Σ debits = 0 and wallets non-negative under concurrent random transfers', async () => {
    const amount = fc.integer({ min: 1, max: 400 });
    const transfer = fc.record({
      from: fc.integer({ min: 0, max: 3 }),
      to: fc.integer({ min: 0, max: 3 }),
      amount,
      twoPhase: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(transfer, { minLength: 1, maxLength: 40 }), async (specs) => {
        const ledger = createLedger();
        const wallets = ['w0', 'w1', 'w2', 'w3'];
        for (const wallet of wallets) await fundedWallet(ledger, wallet, 500);
        await Promise.all(
          specs.map((spec, index) =>
            ledger.transfers.request(
              terms(
                `p${index}`,
                wallets[spec.from] ?? 'w0',
                wallets[spec.to] ?? 'w0',
                spec.amount,
                { mode: spec.twoPhase ? 'two_phase' : 'single_phase' },
              ),
              testContext(),
            ),
          ),
        );
        const report = await auditBalances(ledger.store);
        expect(report).toMatchObject({ balanced: true, openTransferCount: 0 });
        for (const wallet of wallets)
          expect(await balanceOf(ledger, wallet)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 40 },
    );
  });
});
