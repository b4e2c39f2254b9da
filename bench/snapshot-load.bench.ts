import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite.event-store';
import { createSqliteSnapshotStore } from '../adapters/snapshots/sqlite.snapshot-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { accountAggregate, type AccountCommand } from '../domain/account/account.decider';
import { createActorRuntime, type ActorRuntimeLimits } from '../domain/actors/actor-runtime';
import type { EventStore } from '../domain/ports/event-store.port';
import type { SnapshotStore } from '../domain/ports/snapshot-store.port';
import { benchCommandContext } from './bench-context';
import { onInterrupt } from './cleanup';
import { formatInteger, type Row } from './report';

const ACCOUNT_EVENT_COUNT = 200_000;
const COMMANDS_IN_FLIGHT = 4_096;
const LOAD_REPEAT_COUNT = 5;
const SNAPSHOT_EVERY_EVENTS = 1_000;
const ACCOUNT_ID = 'hot';

const LIMITS: ActorRuntimeLimits = {
  mailboxDepthMax: COMMANDS_IN_FLIGHT * 2,
  batchCommandCountMax: 512,
  conflictRetryCountMax: 5,
  actorCountMax: 1_000,
  idleMsMax: 60_000,
  streamLoadEventCountMax: 1_000,
};

const context = benchCommandContext('bench-snapshot-load', '2026-11-22T00:00:00.000Z');

const credit = (index: number): AccountCommand => ({
  type: 'ApplyLeg',
  data: {
    transferId: `t${index}`,
    side: 'credit',
    amountMinor: 1,
    currency: 'EUR',
    pending: false,
  },
});

const snapshotOptions = (snapshots: SnapshotStore | null) =>
  snapshots === null
    ? {}
    : { snapshots: { store: snapshots, everyEventCount: SNAPSHOT_EVERY_EVENTS } };

/**
 * Opens the account and credits it once per event, COMMANDS_IN_FLIGHT commands at a time, with
 * snapshots on as in the service: the last one ends up fewer than SNAPSHOT_EVERY_EVENTS behind.
 */
const writeHotAccount = async (store: EventStore, snapshots: SnapshotStore): Promise<void> => {
  const runtime = createActorRuntime(store, LIMITS, snapshotOptions(snapshots));
  const opened = await runtime.execute(
    accountAggregate,
    ACCOUNT_ID,
    {
      type: 'OpenAccount',
      data: {
        accountId: ACCOUNT_ID,
        ownerClientId: 'bench',
        currency: 'EUR',
        constraint: 'none',
        metadata: {},
        now: context.now,
      },
    },
    context,
  );
  if (!opened.ok) throw new Error(`snapshot bench: open refused (${opened.rejection})`);
  for (let first = 1; first < ACCOUNT_EVENT_COUNT; first += COMMANDS_IN_FLIGHT) {
    const last = Math.min(first + COMMANDS_IN_FLIGHT, ACCOUNT_EVENT_COUNT);
    const indexes = Array.from({ length: last - first }, (_, offset) => first + offset);
    await Promise.all(
      indexes.map((index) => runtime.execute(accountAggregate, ACCOUNT_ID, credit(index), context)),
    );
  }
  await runtime.close();
};

/** Median ms of reading the account with a fresh runtime (no live actor, nothing cached). */
const coldLoadMs = async (store: EventStore, snapshots: SnapshotStore | null): Promise<number> => {
  const timesMs: number[] = [];
  for (let attempt = 0; attempt < LOAD_REPEAT_COUNT; attempt += 1) {
    const runtime = createActorRuntime(store, LIMITS, snapshotOptions(snapshots));
    const startedMs = performance.now();
    const read = await runtime.read(accountAggregate, ACCOUNT_ID);
    timesMs.push(performance.now() - startedMs);
    if (read.revision !== ACCOUNT_EVENT_COUNT - 1) {
      throw new Error(`snapshot bench: loaded revision ${String(read.revision)}`);
    }
    await runtime.close();
  }
  timesMs.sort((left, right) => left - right);
  return timesMs[Math.floor(timesMs.length / 2)] ?? Number.NaN;
};

const loadRow = (label: string, medianMs: number, note: string): Row => ({
  scenario: `cold load of a ${formatInteger(ACCOUNT_EVENT_COUNT)}-event account, ${label}`,
  requests: LOAD_REPEAT_COUNT,
  throughputPerS: 1000 / medianMs,
  unit: 'loads/s',
  p50Ms: medianMs,
  p99Ms: null,
  errors: 0,
  non2xx: 0,
  target: '',
  met: null,
  note,
});

/**
 * How long an actor takes to load a hot account after a restart or an eviction: folding the
 * whole stream, against starting from the snapshot the runtime saves (SNAPSHOT_EVERY_EVENTS).
 */
export const snapshotLoadScenarios = async (): Promise<Row[]> => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-snapshot-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const unregister = onInterrupt(removeDir);
  const store = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const database = openSqliteDatabase(join(dir, 'service.sqlite'));
  try {
    const snapshots = createSqliteSnapshotStore(database);
    await writeHotAccount(store, snapshots);
    const foldedMs = await coldLoadMs(store, null);
    const snapshotMs = await coldLoadMs(store, snapshots);
    const saved = await snapshots.load(`account-${ACCOUNT_ID}`);
    const behind = ACCOUNT_EVENT_COUNT - 1 - (saved?.revision ?? -1);
    const eventsPerS = formatInteger((ACCOUNT_EVENT_COUNT / foldedMs) * 1000);
    return [
      loadRow(
        'whole stream folded',
        foldedMs,
        `median of ${LOAD_REPEAT_COUNT}; ${eventsPerS} events/s`,
      ),
      loadRow(
        'from its snapshot',
        snapshotMs,
        `median of ${LOAD_REPEAT_COUNT}; snapshot ${formatInteger(behind)} events behind; ` +
          `${formatInteger(foldedMs / snapshotMs)}× faster than folding`,
      ),
    ];
  } finally {
    await store.close();
    database.close();
    unregister();
    removeDir();
  }
};
