import { fstatSync, mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { createSqliteEventStore } from '../../../adapters/eventstore/sqlite.event-store';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import {
  type FileSync,
  onWalSyncFailure,
  type WalSyncFailure,
  walSyncOf,
} from '../../../adapters/sqlite/wal-sync';
import { createWriteBatch } from '../../../adapters/sqlite/write-batch';
import { createAppendSignal, durableHeadOf } from '../../../bin/append-signal';
import { withReadSideLog } from '../../../bin/read-side-log';
import { EMPTY_CHAIN, sealEvents } from '../../../domain/event-chain';
import {
  type RecordedEvent,
  type IdempotencyRecord,
  UnavailableError,
} from '../../../domain/ports/event-store.port';
import { eventually } from '../../support/eventually';

/** A sync the test holds: each call waits until the test releases (or fails) it. */
const heldSync = () => {
  const calls: { fd: number; done: (error: Error | null) => void }[] = [];
  const sync: FileSync = (fd, done) => calls.push({ fd, done });
  const waitForCall = (count: number) =>
    eventually(() => (calls.length >= count ? calls[count - 1] : undefined), {
      timeoutMs: 5000,
      what: `sync call ${count}`,
    });
  return { sync, calls, waitForCall };
};

/** A promise's state, read without waiting for it. */
const track = <T>(promise: Promise<T>) => {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
};

const opened = (stream: string) =>
  sealEvents(stream, EMPTY_CHAIN, [
    {
      id: uuidv7(),
      type: 'AccountOpened',
      data: { accountId: stream },
      metadata: {
        correlationId: 'c',
        causationId: null,
        actor: { clientId: 't', role: 'admin', ip: null },
        idempotencyKey: null,
        occurredAt: new Date().toISOString(),
        schemaVersion: 1,
      },
    },
  ]).events;

const record = (key: string): IdempotencyRecord => ({
  scope: 'test',
  key,
  fingerprint: 'f',
  response: { status: 201, headers: {}, body: { code: 0, msg: 'ok', data: null } },
  createdAtMs: 1,
});

describe('durable commits: the WAL fdatasync off the event loop', () => {
  let dir = '';
  let path = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'durable-commit-'));
    path = join(dir, 'events.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('settles an append only after a sync begun after its commit, on the WAL file itself', async () => {
    const held = heldSync();
    const store = createSqliteEventStore({ path, walSync: held.sync });
    try {
      const append = track(store.append('account-a', opened('account-a'), { kind: 'no_stream' }));
      const call = await held.waitForCall(1); // The commit is done: its sync was asked for.
      expect(append.settled).toBe(false);
      // The descriptor synced is the WAL's (the same inode as the file at <db>-wal).
      expect(fstatSync(call.fd).ino).toBe(statSync(`${path}-wal`).ino);
      call.done(null);
      await eventually(() => (append.settled ? true : undefined), {
        timeoutMs: 5000,
        what: 'the append settled after the sync',
      });
      expect(append.value).toMatchObject({ ok: true, lastPosition: 1n });
    } finally {
      held.calls.forEach((call) => call.done(null));
      await store.close();
    }
  });

  it('coalesces: what queues while a sync runs is written as one commit when it ends, covered by one more sync', async () => {
    const held = heldSync();
    const commits: number[] = [];
    const store = createSqliteEventStore({
      path,
      walSync: held.sync,
      onCommit: ({ appendCount }) => commits.push(appendCount),
    });
    try {
      const first = track(store.append('account-1', opened('account-1'), { kind: 'no_stream' }));
      const firstCall = await held.waitForCall(1);
      // Appended while the first sync runs, in three turns.
      const later: ReturnType<typeof track>[] = [];
      for (const name of ['account-2', 'account-3', 'account-4']) {
        const append = store.append(name, opened(name), { kind: 'no_stream' });
        later.push(track(append));
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(held.calls).toHaveLength(1); // At most one sync in flight.
      firstCall.done(null);
      await eventually(() => (first.settled ? true : undefined), {
        timeoutMs: 5000,
        what: 'the first append',
      });
      const second = await held.waitForCall(2);
      expect(later.some((append) => append.settled)).toBe(false);
      second.done(null);
      await eventually(() => (later.every((append) => append.settled) ? true : undefined), {
        timeoutMs: 5000,
        what: 'the three later appends, after one more sync',
      });
      expect(held.calls).toHaveLength(2);
      expect(commits).toEqual([1, 3]);
    } finally {
      held.calls.forEach((call) => call.done(null));
      await store.close();
    }
  });

  it('pipelines a full batch: it is written while the sync before it runs', async () => {
    const held = heldSync();
    const store = createSqliteEventStore({ path, walSync: held.sync, groupCommitEventCountMax: 2 });
    const raw = openSqliteDatabase(path);
    const rowCount = () => raw.prepare('SELECT count(*) AS n FROM events').get() as { n: number };
    try {
      const first = track(store.append('account-1', opened('account-1'), { kind: 'no_stream' }));
      const firstCall = await held.waitForCall(1);
      const full = ['account-2', 'account-3'].map((name) =>
        track(store.append(name, opened(name), { kind: 'no_stream' })),
      );
      await eventually(() => (rowCount().n === 3 ? true : undefined), {
        timeoutMs: 5000,
        what: 'the full batch committed while the first sync is held',
      });
      expect(held.calls).toHaveLength(1);
      expect([first, ...full].some((append) => append.settled)).toBe(false);
      firstCall.done(null);
      (await held.waitForCall(2)).done(null);
      await eventually(() => (full.every((append) => append.settled) ? true : undefined), {
        timeoutMs: 5000,
        what: 'the full batch settled after the second sync',
      });
    } finally {
      held.calls.forEach((call) => call.done(null));
      raw.close();
      await store.close();
    }
  });

  it('shows nothing of a commit before its sync: in-thread reads, subscriptions, the read-side reader', async () => {
    const held = heldSync();
    const signal = createAppendSignal();
    const store = createSqliteEventStore({ path, walSync: held.sync, onDurable: signal.notify });
    const first = store.append('account-0', opened('account-0'), { kind: 'no_stream' });
    (await held.waitForCall(1)).done(null);
    await first;
    // The read side's own reader, on its own connection, bounded by the signal's durable head.
    const readSide = withReadSideLog(createSqliteEventStore({ path }), {
      path,
      pollMs: 10,
      externalAppends: null,
      durableHead: durableHeadOf(signal.cells),
    });
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({ afterPosition: null });
    const reading = (async () => {
      for await (const event of subscription) seen.push(event);
    })();
    try {
      await eventually(() => (seen.length === 1 ? true : undefined), {
        timeoutMs: 5000,
        what: 'the first, durable event',
      });
      const append = track(store.append('account-b', opened('account-b'), { kind: 'no_stream' }));
      const call = await held.waitForCall(2); // Committed (in the table), not yet synced.
      expect(await store.readAll({ afterPosition: null, eventCountMax: 10 })).toHaveLength(1);
      expect(await store.headPosition()).toBe(1n);
      expect(await store.countAfter({ afterPosition: 1n, eventCountMax: 10 })).toMatchObject({
        eventCount: 0,
      });
      const heads = await store.readStreamHeads({
        afterPosition: null,
        untilPosition: 10n,
        eventCountMax: 10,
      });
      expect(heads.lastPosition).toBe(1n);
      expect(await readSide.readAll({ afterPosition: null, eventCountMax: 10 })).toHaveLength(1);
      expect(durableHeadOf(signal.cells)()).toBe(1n);
      // A stream's reader gets the event only once it is durable.
      const stream = track(
        store.readStream('account-b', { fromRevision: 0, direction: 'forwards', eventCountMax: 5 }),
      );
      expect(seen).toHaveLength(1);
      expect(stream.settled).toBe(false);
      expect(append.settled).toBe(false);
      call.done(null);
      await eventually(() => (seen.length === 2 ? true : undefined), {
        timeoutMs: 5000,
        what: 'the subscription delivering the event after its sync',
      });
      await eventually(() => (stream.settled ? true : undefined), {
        timeoutMs: 5000,
        what: 'the stream read after the sync',
      });
      expect((stream.value as RecordedEvent[]).map((event) => event.stream)).toEqual(['account-b']);
      expect(durableHeadOf(signal.cells)()).toBe(2n);
      expect(await readSide.readAll({ afterPosition: null, eventCountMax: 10 })).toHaveLength(2);
      expect(await store.headPosition()).toBe(2n);
    } finally {
      held.calls.forEach((call) => call.done(null));
      await subscription.close();
      await reading;
      await readSide.close();
      await store.close();
    }
  });

  it('answers an idempotency replay only once the original is durable', async () => {
    const held = heldSync();
    const store = createSqliteEventStore({ path, walSync: held.sync });
    try {
      const original = track(
        store.appendMulti(
          [{ stream: 'account-k', events: opened('account-k'), expected: { kind: 'no_stream' } }],
          [record('k1')],
        ),
      );
      const call = await held.waitForCall(1);
      const replay = track(store.readIdempotencyRecord('test', 'k1'));
      const retried = track(
        store.appendMulti(
          [{ stream: 'account-k2', events: opened('account-k2'), expected: { kind: 'no_stream' } }],
          [record('k1')],
        ),
      );
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(original.settled).toBe(false);
      expect(replay.settled).toBe(false);
      expect(retried.settled).toBe(false);
      call.done(null);
      (await held.waitForCall(2)).done(null);
      await eventually(() => (replay.settled && retried.settled ? true : undefined), {
        timeoutMs: 5000,
        what: 'the replay answered after the sync',
      });
      expect(original.value).toMatchObject({ ok: true });
      expect(replay.value).toMatchObject({ key: 'k1', position: 1n });
      expect(retried.value).toMatchObject({ ok: false, reason: 'idempotency_key_exists' });
    } finally {
      held.calls.forEach((call) => call.done(null));
      await store.close();
    }
  });

  it('is fail-stop on a failed sync: refuses the waiting and every later append with 503, reports the file once', async () => {
    const held = heldSync();
    const failures: WalSyncFailure[] = [];
    const stopListening = onWalSyncFailure((failure) => failures.push(failure));
    const store = createSqliteEventStore({ path, walSync: held.sync });
    try {
      const waiting = store.append('account-f', opened('account-f'), { kind: 'no_stream' });
      const waitingState = track(waiting);
      const ioError = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      (await held.waitForCall(1)).done(ioError);
      await expect(waiting).rejects.toBeInstanceOf(UnavailableError);
      expect(waitingState.settled).toBe(true);
      await expect(
        store.append('account-g', opened('account-g'), { kind: 'no_stream' }),
      ).rejects.toBeInstanceOf(UnavailableError);
      await expect(store.probeWrite()).rejects.toBeInstanceOf(UnavailableError);
      expect(failures).toEqual([{ file: `${path}-wal`, error: ioError }]);
      expect(held.calls).toHaveLength(1); // Nothing more is synced, nor written.
      expect(await store.readAll({ afterPosition: null, eventCountMax: 10 })).toEqual([]);
    } finally {
      stopListening();
      await store.close();
    }
  });

  it('is fail-stop when the WAL cannot be opened for its sync: the append is refused with 503, not thrown', async () => {
    const failures: WalSyncFailure[] = [];
    const stopListening = onWalSyncFailure((failure) => failures.push(failure));
    const lostPath = join(dir, 'lost-wal.sqlite');
    const store = createSqliteEventStore({ path: lostPath });
    try {
      // SQLite keeps writing its WAL through the descriptor it holds; the path is gone.
      unlinkSync(`${lostPath}-wal`);
      await expect(
        store.append('account-w', opened('account-w'), { kind: 'no_stream' }),
      ).rejects.toBeInstanceOf(UnavailableError);
      expect(failures.map((failure) => failure.file)).toEqual([`${lostPath}-wal`]);
      expect(String(failures[0]?.error)).toContain('ENOENT');
    } finally {
      stopListening();
      await store.close();
    }
  });

  it('settles a write batch only after its sync, and refuses writes after a failed one', async () => {
    const held = heldSync();
    const failures: WalSyncFailure[] = [];
    const stopListening = onWalSyncFailure((failure) => failures.push(failure));
    const servicePath = join(dir, 'service.sqlite');
    const db = openSqliteDatabase(servicePath);
    db.exec('CREATE TABLE t (x INTEGER)');
    walSyncOf(db, { sync: held.sync });
    const batch = createWriteBatch(db);
    try {
      const first = track(batch.run(() => db.prepare('INSERT INTO t VALUES (1)').run().changes));
      const call = await held.waitForCall(1);
      expect(first.settled).toBe(false);
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL again for the others.
      call.done(null);
      await eventually(() => (first.settled ? true : undefined), {
        timeoutMs: 5000,
        what: 'the batched write settled after its sync',
      });
      expect(first.value).toBe(1);
      const second = batch.run(() => db.prepare('INSERT INTO t VALUES (2)').run().changes);
      (await held.waitForCall(2)).done(new Error('EIO'));
      await expect(second).rejects.toBeInstanceOf(UnavailableError);
      await expect(batch.run(() => 3)).rejects.toBeInstanceOf(UnavailableError);
      expect(failures.map((failure) => failure.file)).toEqual([`${servicePath}-wal`]);
    } finally {
      stopListening();
      await walSyncOf(db).close();
      db.close();
    }
  });
});
