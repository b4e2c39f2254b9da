import {
  type CommitStats,
  createSqliteEventStore,
} from '../../adapters/eventstore/sqlite.event-store';
import { UnavailableError } from '../../domain/ports/event-store.port';
import { eventStoreContract } from './event-store.contract';
import { conflict, newEvents, newStream, readWhole } from './event-store-contract/fixtures';

eventStoreContract('sqlite :memory:', () =>
  Promise.resolve(createSqliteEventStore({ path: ':memory:' })),
);

describe('sqlite event store', () => {
  it("rejects an append reusing another stream's event id, naming it; others commit", async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    const [first, second, third] = [newStream(), newStream(), newStream()];
    const taken = newEvents(first, 1);
    await store.append(first, taken, { kind: 'no_stream' });
    const reused = [...newEvents(second, 1), ...taken];
    const results = await Promise.allSettled([
      store.append(second, reused, { kind: 'no_stream' }),
      store.append(third, newEvents(third, 2), { kind: 'no_stream' }),
    ]);
    expect(results[0]).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringContaining(taken[0]?.id ?? '?') },
    });
    expect(results[1]).toMatchObject({ status: 'fulfilled', value: { ok: true, lastRevision: 1 } });
    // The savepoint rolled back the append's first event too.
    expect(await readWhole(store, second)).toEqual([]);
    await store.close();
  });

  it('refuses appends beyond pendingEventCountMax with UnavailableError', async () => {
    const store = createSqliteEventStore({ path: ':memory:', pendingEventCountMax: 3 });
    const [left, right] = [newStream(), newStream()];
    const accepted = store.append(left, newEvents(left, 3), { kind: 'no_stream' });
    const refused = store.append(right, newEvents(right, 1), { kind: 'no_stream' });
    await expect(refused).rejects.toBeInstanceOf(UnavailableError);
    await expect(accepted).resolves.toMatchObject({ ok: true, lastRevision: 2 });
    await expect(
      store.append(right, newEvents(right, 1), { kind: 'no_stream' }),
    ).resolves.toMatchObject({ ok: true });
    await store.close();
  });

  it('splits a group commit at groupCommitEventCountMax without splitting an append', async () => {
    const commits: CommitStats[] = [];
    const store = createSqliteEventStore({
      path: ':memory:',
      groupCommitEventCountMax: 4,
      onCommit: (stats) => commits.push(stats),
    });
    const streams = [newStream(), newStream(), newStream(), newStream()];
    const sizes = [3, 1, 2, 5];
    await Promise.all(
      streams.map((stream, index) =>
        store.append(stream, newEvents(stream, sizes[index] ?? 0), { kind: 'no_stream' }),
      ),
    );
    expect(commits).toEqual([
      { appendCount: 2, eventCount: 4 },
      { appendCount: 1, eventCount: 2 },
      { appendCount: 1, eventCount: 5 },
    ]);
    await store.close();
  });

  it('keeps appends in one group commit independent: a conflict fails alone', async () => {
    const commits: CommitStats[] = [];
    const store = createSqliteEventStore({
      path: ':memory:',
      onCommit: (stats) => commits.push(stats),
    });
    const stream = newStream();
    await store.append(stream, newEvents(stream, 1), { kind: 'no_stream' });
    const others = [newStream(), newStream()];
    const results = await Promise.all([
      store.append(others[0] ?? '', newEvents(others[0] ?? '', 1), { kind: 'no_stream' }),
      store.append(stream, newEvents(stream, 1), { kind: 'exact', revision: 5 }),
      store.append(stream, newEvents(stream, 1), { kind: 'exact', revision: 0 }),
      store.append(stream, newEvents(stream, 1), { kind: 'exact', revision: 0 }),
      store.append(others[1] ?? '', newEvents(others[1] ?? '', 1), { kind: 'no_stream' }),
    ]);
    expect(results.map((result) => (result.ok ? result.lastRevision : result))).toEqual([
      0,
      conflict(0),
      1,
      conflict(1),
      0,
    ]);
    expect(commits).toEqual([
      { appendCount: 1, eventCount: 1 },
      { appendCount: 5, eventCount: 5 },
    ]);
    await store.close();
  });

  it('commits what was queued before close() and refuses appends after it', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    const stream = newStream();
    const pending = store.append(stream, newEvents(stream, 2), { kind: 'no_stream' });
    await store.close();
    await expect(pending).resolves.toMatchObject({ ok: true, lastRevision: 1 });
    await expect(
      store.append(stream, newEvents(stream, 1), { kind: 'exact', revision: 1 }),
    ).rejects.toThrow('append after close');
  });
});
