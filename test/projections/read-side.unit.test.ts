import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import { openSqliteDatabase, type SqliteDatabase } from '../../adapters/sqlite/open-database';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.port';
import type { ReadModelStore } from '../../domain/ports/read-model-store.port';
import { createProjectionRunner } from '../../projections/projection-runner';
import { queryTrail, type TrailFilter } from '../../projections/audit-trail.query';
import type { WatchedChange } from '../../projections/projection';
import { checkpointOf, collectionIn, READ_MODELS } from '../../projections/read-models';
import { createGenerationRegistry } from '../../projections/generations';
import { createReadSide, type ReadSide } from '../../projections/read-side';
import { eventually } from '../support/eventually';
import { generationOneRunner } from './support/generation-runner';
import {
  dumpGeneration,
  PAYMENT_ID,
  transferToWalletB,
  writeHistory,
} from './support/ledger-fixture';

const limits = {
  batchEventCountMax: 4,
  waiterCountMax: 10,
  watcherCountMax: 10,
  lagEventCountMax: 100,
  switchPollMs: 60_000,
};

const NO_FILTER: TrailFilter = {
  clientId: null,
  stream: null,
  category: null,
  correlationId: null,
  from: null,
  to: null,
};

const allEvents = async (store: EventStore): Promise<readonly RecordedEvent[]> =>
  store.readAll({ afterPosition: null, eventCountMax: 10_000 });

const balanceIn = async (
  store: ReadModelStore,
  generation: number,
  accountId: string,
): Promise<unknown> => (await store.get(collectionIn('accounts', generation), accountId))?.['view'];

/** A runner on generation 1 (collections created) that applies everything there is. */
const runToHead = async (
  eventStore: EventStore,
  store: ReadModelStore,
  batchEventCountMax = 4,
): Promise<number> => {
  const runner = await generationOneRunner(eventStore, store, {
    batchEventCountMax,
    cachedDocumentCountMax: 2,
  });
  return runner.catchUp({ untilPosition: null, untilTime: null }, () => undefined);
};

describe('the read side', () => {
  let eventStore: EventStore;
  const sides: ReadSide[] = [];
  beforeEach(async () => {
    eventStore = createInMemoryEventStore();
    await writeHistory(eventStore);
  });
  afterEach(async () => {
    await Promise.all(sides.splice(0).map((side) => side.stop()));
  });
  const startSide = async (store: ReadModelStore): Promise<ReadSide> => {
    const side = createReadSide({
      eventStore,
      store,
      limits,
      nowMs: Date.now,
      onError: (error) => {
        throw error;
      },
    });
    sides.push(side);
    await side.start();
    const head = await eventStore.headPosition();
    if (head !== null) await side.waitForPosition(head, 5000);
    return side;
  };

  it('folds the log into balances, a statement, transfers, payments, refunds, traffic and the audit trail', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    await runToHead(eventStore, store);
    const dump = await dumpGeneration(store, 1);
    expect(await balanceIn(store, 1, 'wallet-a')).toMatchObject({
      balanceMinor: 980,
      availableMinor: 980,
      pendingBalanceMinor: 0,
      ownerClientId: 'admin',
    });
    expect(await balanceIn(store, 1, 'clearing')).toMatchObject({
      balanceMinor: -1280,
      debitsPostedMinor: 1280,
    });
    const statement = await store.find(collectionIn('entries', 1), {
      where: { accountId: 'wallet-a' },
      range: null,
      orderBy: { field: 'positionKey', direction: 'desc' },
      offset: 0,
      limit: 10,
    });
    expect(
      statement.documents.map((entry) => (entry['view'] as { amountMinor: number }).amountMinor),
    ).toEqual([300, 30, 40, 250, 1000]);
    expect((await store.get(collectionIn('transfers', 1), 't-3'))?.['view']).toMatchObject({
      status: 'posted',
      postedAmountMinor: 30,
    });
    expect((await store.get(collectionIn('payments', 1), PAYMENT_ID))?.['view']).toMatchObject({
      status: 'succeeded',
      refundingMinor: 100,
    });
    expect(
      (await store.get(collectionIn('refunds', 1), `${PAYMENT_ID}:r-1`))?.['view'],
    ).toMatchObject({ status: 'requested', amountMinor: 100 });
    expect(dump['traffic']?.map((doc) => [doc['userId'], doc['allowed']])).toEqual([
      ['user-1', true],
      ['user-2', false],
    ]);
    const events = await allEvents(eventStore);
    const trail = await queryTrail({ eventStore, store, generation: 1 }, NO_FILTER, {
      offset: events.length - 1,
      limit: 10,
    });
    expect(trail.totalCount).toBe(events.length);
    expect(trail.items).toEqual([
      expect.objectContaining({
        clientId: 'admin',
        role: 'admin',
        ip: '127.0.0.1',
        correlationId: 'corr-1',
        stream: 'account-wallet-a',
        position: events[0]?.position.toString(),
      }),
    ]);
  });

  it('applying the same events again leaves the same documents', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    await runToHead(eventStore, store);
    const once = await dumpGeneration(store, 1);
    await store.deleteCheckpoint(checkpointOf(1)); // The runner now re-reads and re-applies everything.
    expect(await runToHead(eventStore, store)).toBeGreaterThan(0);
    expect(await dumpGeneration(store, 1)).toEqual(once);
  });

  it('a runner killed between its document writes and its checkpoint converges to the uninterrupted result', async () => {
    const uninterrupted = createSqliteReadModelStore({ path: ':memory:' });
    await runToHead(eventStore, uninterrupted);
    const database: SqliteDatabase = openSqliteDatabase(':memory:');
    const crashing = createSqliteReadModelStore({ database });
    // The third checkpoint write fails inside the transaction, after that batch's documents were
    // written (an upsert fires the insert trigger every time).
    database.exec('CREATE TABLE crash_count (n INTEGER); INSERT INTO crash_count VALUES (0);');
    database.exec(`CREATE TRIGGER crash BEFORE INSERT ON rm_checkpoints BEGIN
      UPDATE crash_count SET n = n + 1;
      SELECT RAISE(ABORT, 'killed') WHERE (SELECT n FROM crash_count) = 3;
    END;`);
    await expect(runToHead(eventStore, crashing)).rejects.toMatchObject({ message: 'killed' });
    const checkpoint = await crashing.readCheckpoint(checkpointOf(1));
    expect(checkpoint?.position).toBe((await allEvents(eventStore))[7]?.position); // Two batches of four.
    const trailBeforeRestart = await queryTrail(
      { eventStore, store: crashing, generation: 1 },
      NO_FILTER,
      { offset: 0, limit: 100 },
    );
    expect(trailBeforeRestart.totalCount).toBe(8); // The killed batch left nothing behind.
    database.exec('DROP TRIGGER crash;');
    await runToHead(eventStore, crashing); // The restart.
    expect(await dumpGeneration(crashing, 1)).toEqual(await dumpGeneration(uninterrupted, 1));
  });

  it('a runner that failed a commit and goes on converges: its cache never holds the failed batch', async () => {
    const uninterrupted = createSqliteReadModelStore({ path: ':memory:' });
    await runToHead(eventStore, uninterrupted);
    const database: SqliteDatabase = openSqliteDatabase(':memory:');
    const store = createSqliteReadModelStore({ database });
    for (const projection of READ_MODELS) {
      for (const spec of projection.collections)
        await store.ensureCollection({ ...spec, name: collectionIn(spec.name, 1) });
    }
    database.exec(`CREATE TABLE crash_count (n INTEGER); INSERT INTO crash_count VALUES (0);
      CREATE TRIGGER crash BEFORE INSERT ON rm_checkpoints BEGIN
        UPDATE crash_count SET n = n + 1;
        SELECT RAISE(ABORT, 'disk full') WHERE (SELECT n FROM crash_count) = 2;
      END;`);
    const runner = createProjectionRunner({
      eventStore,
      store,
      projections: READ_MODELS,
      collectionName: (name) => collectionIn(name, 1),
      checkpointName: checkpointOf(1),
      batchEventCountMax: 4,
      cachedDocumentCountMax: 100,
      onCommitted: () => undefined,
    });
    await runner.load();
    await expect(
      runner.catchUp({ untilPosition: null, untilTime: null }, () => undefined),
    ).rejects.toMatchObject({ message: 'disk full' });
    expect(runner.position()).toBe((await allEvents(eventStore))[3]?.position);
    database.exec('DROP TRIGGER crash;');
    await runner.catchUp({ untilPosition: null, untilTime: null }, () => undefined); // The same runner, same cache.
    expect(await dumpGeneration(store, 1)).toEqual(await dumpGeneration(uninterrupted, 1));
  });

  it('a rebuild yields identical documents in a new generation and switches to it', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    const side = await startSide(store);
    expect(side.activeGeneration()).toBe(1);
    const before = await dumpGeneration(store, 1);
    const progress: number[] = [];
    const summary = await side.rebuild({ untilPosition: null, untilTime: null }, (count) =>
      progress.push(count),
    );
    expect(summary).toMatchObject({
      generation: 2,
      switched: true,
      events: (await allEvents(eventStore)).length,
    });
    expect(progress[progress.length - 1]).toBe(summary.events);
    expect(side.activeGeneration()).toBe(2);
    expect(await dumpGeneration(store, 2)).toEqual(before);
    expect((await side.generations()).map((record) => [record.generation, record.status])).toEqual([
      [2, 'live'],
      [1, 'dropped'],
    ]);
  });

  it('follows a generation of an older version until its rebuild switches over, then drops its retired collections', async () => {
    const database = openSqliteDatabase(':memory:');
    const store = createSqliteReadModelStore({ database });
    const registry = createGenerationRegistry(store);
    await registry.ensure();
    const old = await registry.create({
      version: 1,
      untilPosition: null,
      untilTime: null,
      createdAt: '2026-11-22T09:00:00.000Z',
    });
    // Version 1's layout: one audit_trail row per event, no audit_heads nor audit_chunks.
    await store.dropCollection(collectionIn('audit_heads', 1));
    await store.dropCollection(collectionIn('audit_chunks', 1));
    await store.ensureCollection({ name: collectionIn('audit_trail', 1), indexes: [] });
    await registry.switchTo(old, null, '2026-11-22T09:00:00.000Z');
    const side = await startSide(store);
    await eventually(() => (side.activeGeneration() === 2 ? true : undefined), {
      timeoutMs: 5000,
      what: 'the rebuild of version 1 switched over',
    });
    const tablesOf = (generation: number): unknown[] =>
      database
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?")
        .all(`rm_%_g${generation}`);
    expect(tablesOf(1)).toEqual([]);
    expect(tablesOf(2)).toContainEqual({ name: 'rm_audit_heads_g2' });
    const trail = await queryTrail({ eventStore, store, generation: 2 }, NO_FILTER, {
      offset: 0,
      limit: 1,
    });
    expect(trail.totalCount).toBe((await allEvents(eventStore)).length);
  });

  it('a point-in-time rebuild shows balances as they were, beside the live generation', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    const side = await startSide(store);
    const byTime = await side.rebuild(
      { untilPosition: null, untilTime: '2026-11-22T10:12:00.000Z' },
      () => undefined,
    );
    expect(byTime.switched).toBe(false);
    expect(await balanceIn(store, byTime.generation, 'wallet-a')).toMatchObject({
      balanceMinor: 1250,
    });
    // The ledger writes a transfer's legs and its TransferCreated in one append, legs first.
    const firstCreated = (await allEvents(eventStore)).find(
      (event) => event.type === 'TransferCreated',
    );
    const byPosition = await side.rebuild(
      { untilPosition: firstCreated?.position ?? null, untilTime: null },
      () => undefined,
    );
    expect(await balanceIn(store, byPosition.generation, 'wallet-a')).toMatchObject({
      balanceMinor: 1000,
    });
    expect(side.activeGeneration()).toBe(1);
    expect(await balanceIn(store, 1, 'wallet-a')).toMatchObject({ balanceMinor: 980 });
    expect((await side.generation(byTime.generation))?.status).toBe('snapshot');
  });

  it('follows live appends, answers read-your-writes waits and reports lag', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    const side = await startSide(store);
    const seen: WatchedChange[] = [];
    const unwatch = await side.watch('account-wallet-b', (change) => seen.push(change));
    const ledger = await transferToWalletB(eventStore, 't-9');
    expect(await side.waitForPosition(ledger, 5000)).toBe(true);
    expect(await balanceIn(store, 1, 'wallet-b')).toMatchObject({ balanceMinor: 305 });
    expect(seen.map((change) => change.view['balanceMinor'])).toEqual([305]);
    unwatch?.();
    expect(await side.waitForPosition(ledger + 1000n, 20)).toBe(false);
    expect(await side.lag()).toMatchObject({
      eventsBehind: 0,
      msBehind: 0,
      appliedPosition: ledger.toString(),
    });
  });
});
