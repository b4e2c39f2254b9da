import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { createSqliteSnapshotStore } from '../../adapters/snapshots/sqlite.snapshot-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import {
  auditBalances,
  auditSnapshots,
  exportLog,
  verifyChains,
  verifyStream,
} from '../../bin/audit-cli';
import { accountAggregate } from '../../domain/account/account.decider';
import { parseStored } from '../../domain/aggregate';
import { accountSnapshotCodec } from '../../domain/account/account.snapshot';
import { loadStream, toSavedSnapshot } from '../../domain/actors/stream-snapshot';
import type { JsonObject } from '../../domain/ports/event-store.port';
import { writeHistory } from '../projections/support/ledger-fixture';

describe("the auditor's toolkit on a real SQLite log", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-audit-'));
    path = join(dir, 'events.sqlite');
    const store = createSqliteEventStore({ path });
    await writeHistory(store);
    await store.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies an untouched log and finds Σ = 0 per currency', async () => {
    const store = createSqliteEventStore({ path });
    try {
      expect(await verifyChains(store)).toMatchObject({ broken: null, streamCount: 10 });
      expect(await auditBalances(store)).toMatchObject({ balanced: true, openTransferCount: 0 });
    } finally {
      await store.close();
    }
  });

  it('reports tampering with one stored event at the right stream and revision', async () => {
    const database = new Database(path);
    const target = database
      .prepare(
        "SELECT stream, revision FROM events WHERE stream = 'account-wallet-a' AND revision = 2",
      )
      .get() as { stream: string; revision: number };
    database
      .prepare(
        "UPDATE events SET data = json_set(data, '$.amountMinor', 1) WHERE stream = ? AND revision = ?",
      )
      .run(target.stream, target.revision);
    database.close();
    const store = createSqliteEventStore({ path });
    try {
      const report = await verifyChains(store);
      expect(report.broken).toMatchObject({ stream: 'account-wallet-a', revision: 2 });
      expect(report.broken?.hashExpected).not.toBe(report.broken?.hashFound);
      expect((await verifyStream(store, 'account-wallet-a', 1000)).broken).toMatchObject({
        revision: 2,
      });
      expect((await verifyStream(store, 'account-wallet-b', 1000)).broken).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('exports the log after a position, or one stream, as JSON lines', async () => {
    const store = createSqliteEventStore({ path });
    try {
      const lines: string[] = [];
      const all = await exportLog(
        store,
        { stream: null, afterPosition: 3n, pageEventCountMax: 2 },
        (line) => lines.push(line),
      );
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ position: '4' });
      expect(all).toBe(lines.length);
      const streamLines: string[] = [];
      await exportLog(
        store,
        { stream: 'transfer-t-3', afterPosition: null, pageEventCountMax: 1 },
        (line) => streamLines.push(line),
      );
      // Created pending, then posted: one event per state change, read one page at a time.
      expect(streamLines.map((line) => JSON.parse(line).revision)).toEqual([0, 1]);
    } finally {
      await store.close();
    }
  });

  it('finds snapshots that match the log, tampered states, and ones actors would ignore', async () => {
    const store = createSqliteEventStore({ path });
    const database = openSqliteDatabase(join(dir, 'service.sqlite'));
    const snapshots = createSqliteSnapshotStore(database);
    try {
      const snapshotOf = async (accountId: string) => {
        const stream = `account-${accountId}`;
        const source = {
          store,
          snapshots: null,
          limits: { streamLoadEventCountMax: 1000 },
          onEvent: () => undefined,
        };
        const loaded = await loadStream(source, accountAggregate, stream);
        const saved = toSavedSnapshot(stream, accountSnapshotCodec, loaded.snapshot);
        if (saved === null) throw new Error(`fixture: ${stream} is empty`);
        return saved;
      };
      const walletA = await snapshotOf('wallet-a');
      const walletB = await snapshotOf('wallet-b');
      await snapshots.save(walletA);
      await snapshots.save(walletB);
      expect(await auditSnapshots(store, snapshots)).toEqual({
        checkedCount: 2,
        mismatches: [],
        unusable: [],
      });
      // One taken before the last event, as actors take them: the audit folds up to its revision.
      const events = await store.readStream('account-wallet-b', {
        fromRevision: 0,
        direction: 'forwards',
        eventCountMax: 1000,
      });
      const middle = events[events.length - 2];
      if (middle === undefined || middle.revision === walletB.revision) throw new Error('fixture');
      const foldedToMiddle = events
        .slice(0, middle.revision + 1)
        .reduce(
          (folded, event) => accountAggregate.evolve(folded, parseStored(accountAggregate, event)),
          accountAggregate.initialState,
        );
      await snapshots.save({
        ...walletB,
        revision: middle.revision,
        position: middle.position,
        lastHash: middle.metadata.hash,
        state: accountSnapshotCodec.encode(foldedToMiddle),
      });
      expect(await auditSnapshots(store, snapshots)).toMatchObject({
        mismatches: [],
        unusable: [],
      });

      const state = walletA.state as JsonObject;
      const inflated = { ...state, creditsPostedMinor: Number(state['creditsPostedMinor']) + 1 };
      await snapshots.save({ ...walletA, state: inflated });
      await snapshots.save({ ...walletB, lastHash: 'f'.repeat(64) });
      expect(await auditSnapshots(store, snapshots)).toEqual({
        checkedCount: 2,
        mismatches: [
          {
            stream: 'account-wallet-a',
            revision: walletA.revision,
            reason: 'the saved state differs from the fold of the log',
          },
        ],
        unusable: [
          {
            stream: 'account-wallet-b',
            revision: walletB.revision,
            reason: `another event at revision ${walletB.revision}`,
          },
        ],
      });
    } finally {
      database.close();
      await store.close();
    }
  });
});
