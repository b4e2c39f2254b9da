import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { auditBalances, balancesVerdict, durationOption } from '../../bin/audit-cli';
import { EVENTS_FILE_NAME } from '../../bin/event-store';
import { defaultBalanceAuditOptions } from '../../domain/audit/balance-audit';
import { writeHistory } from '../projections/support/ledger-fixture';
import { createLedger, testContext } from '../support/ledger-harness';

/**
 * `ledger audit balances` reports holds (pending two-phase transfers) older than
 * --pending-older-than: the books balance while money sits held, e.g. by a refund that never
 * settled, so the audit names them and exits 1.
 */
const LEDGER_CLI = join(__dirname, '../../dist/bin/ledger.js');
const HELD_AT = '2026-11-22T10:20:00.000Z';
const HELD_AT_MS = Date.parse(HELD_AT);
const HOUR_MS = 3_600_000;

describe('audit balances: pending holds older than an age', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-holds-'));
    const store = createSqliteEventStore({ path: join(dataDir, EVENTS_FILE_NAME) });
    const ledger = await writeHistory(store);
    const held = await ledger.transfers.request(
      {
        transferId: 'refund-p-1-r-1',
        debitAccountId: 'wallet-a',
        creditAccountId: 'wallet-b',
        amountMinor: 70,
        currency: 'EUR',
        mode: 'two_phase',
        timeoutMs: null,
        reference: 'refund:r-1',
      },
      testContext({ now: HELD_AT }),
    );
    expect(held.ok).toBe(true);
    await store.close();
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('lists a hold pending longer than the age, with its terms and age, and not a younger one', async () => {
    const store = createSqliteEventStore({ path: join(dataDir, EVENTS_FILE_NAME) });
    try {
      const options = (nowMs: number) => ({
        ...defaultBalanceAuditOptions(nowMs),
        pendingOlderThanMs: HOUR_MS,
      });
      const old = await auditBalances(store, options(HELD_AT_MS + HOUR_MS + 1000));
      expect(old).toMatchObject({
        balanced: true,
        openTransferCount: 0,
        pendingHoldCount: 1,
        pendingOlderThanMs: HOUR_MS,
        stalePendingHoldCount: 1,
        stalePendingHolds: [
          {
            transferId: 'refund-p-1-r-1',
            debitAccountId: 'wallet-a',
            creditAccountId: 'wallet-b',
            amountMinor: 70,
            currency: 'EUR',
            reference: 'refund:r-1',
            pendingSince: HELD_AT,
            expiresAt: null,
            ageMs: HOUR_MS + 1000,
          },
        ],
      });
      const verdict = balancesVerdict(old);
      expect(verdict.exitCode).toBe(1);
      expect(verdict.problems.join('\n')).toContain('1 pending holds older than 3600 s');
      expect(verdict.problems.join('\n')).toContain('refund-p-1-r-1: 70 EUR wallet-a → wallet-b');

      const young = await auditBalances(store, options(HELD_AT_MS + HOUR_MS - 1000));
      expect(young).toMatchObject({
        pendingHoldCount: 1,
        stalePendingHoldCount: 0,
        stalePendingHolds: [],
      });
      expect(balancesVerdict(young)).toEqual({ exitCode: 0, problems: [] });
    } finally {
      await store.close();
    }
  });

  it('forgets a hold once it is voided', async () => {
    const store = createSqliteEventStore({ path: join(dataDir, EVENTS_FILE_NAME) });
    try {
      const ledger = createLedger(store);
      const voided = await ledger.transfers.void(
        'refund-p-1-r-1',
        testContext({ now: '2026-11-22T12:00:00.000Z' }),
      );
      expect(voided.ok).toBe(true);
      const report = await auditBalances(
        store,
        defaultBalanceAuditOptions(HELD_AT_MS + 9 * HOUR_MS),
      );
      expect(report).toMatchObject({ pendingHoldCount: 0, stalePendingHoldCount: 0 });
    } finally {
      await store.close();
    }
  });

  it('parses --pending-older-than durations and refuses others', () => {
    expect([
      durationOption('500ms'),
      durationOption('90s'),
      durationOption('30m'),
      durationOption('1h'),
      durationOption('2d'),
    ]).toEqual([500, 90_000, 1_800_000, HOUR_MS, 2 * 24 * HOUR_MS]);
    for (const bad of ['', '0h', '1 week', '-1h', '1.5h', 'h'])
      expect(() => durationOption(bad)).toThrow('must be a positive duration');
  });

  it('the built CLI exits 1 naming the old hold on stderr, and 0 with a longer age', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [LEDGER_CLI, 'audit', 'balances', ...args], {
        env: { ...process.env, DATA_DIR: dataDir },
        encoding: 'utf8',
      });
    // The hold was placed in 2026-11 (the fixture's clock): older than an hour, younger than
    // 100,000 days.
    const flagged = run('--json');
    expect(flagged.status).toBe(1);
    expect(flagged.stderr).toContain('refund-p-1-r-1');
    expect(JSON.parse(flagged.stdout)).toMatchObject({ stalePendingHoldCount: 1 });
    expect(run().stdout).toContain('1 pending holds older than 3600 s');
    const patient = run('--json', '--pending-older-than', '100000d');
    expect(patient.status).toBe(0);
    expect(patient.stderr).not.toContain('refund-p-1-r-1');
    expect(JSON.parse(patient.stdout)).toMatchObject({ stalePendingHoldCount: 0 });
    const bad = run('--pending-older-than', 'soon');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('must be a positive duration');
  });
});
