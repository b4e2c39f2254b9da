import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CommitStats,
  createSqliteEventStore,
} from '../../adapters/eventstore/sqlite.event-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { eventStoreContract } from './event-store.contract';
import {
  appended,
  conflict,
  follow,
  newEvents,
  newStream,
  readWhole,
} from './event-store-contract/fixtures';

const directory = mkdtempSync(join(tmpdir(), 'ledger-events-'));
let fileCount = 0;
const newPath = (): string => {
  fileCount += 1;
  return join(directory, `events-${fileCount}.sqlite`);
};
afterAll(() => rmSync(directory, { recursive: true, force: true }));

eventStoreContract('sqlite file', () =>
  Promise.resolve(createSqliteEventStore({ path: newPath() })),
);

describe('sqlite event store on a file', () => {
  it('keeps acknowledged events across close and reopen, and revisions continue', async () => {
    const path = newPath();
    const stream = newStream();
    const first = createSqliteEventStore({ path });
    const written = appended(
      await first.append(stream, newEvents(stream, 3), { kind: 'no_stream' }),
    );
    await first.close();

    const second = createSqliteEventStore({ path });
    expect((await readWhole(second, stream)).map((event) => event.revision)).toEqual([0, 1, 2]);
    await expect(
      second.append(stream, newEvents(stream, 1), { kind: 'no_stream' }),
    ).resolves.toEqual(conflict(2));
    const next = appended(
      await second.append(stream, newEvents(stream, 1), { kind: 'exact', revision: 2 }),
    );
    expect(next.lastRevision).toBe(3);
    expect(next.lastPosition > written.lastPosition).toBe(true);
    await second.close();
  });

  it('writes N concurrent appends as one transaction at contiguous positions', async () => {
    const commits: CommitStats[] = [];
    const store = createSqliteEventStore({
      path: newPath(),
      onCommit: (stats) => commits.push(stats),
    });
    const streams = Array.from({ length: 50 }, newStream);
    const results = await Promise.all(
      streams.map((stream) => store.append(stream, newEvents(stream, 2), { kind: 'no_stream' })),
    );
    expect(commits).toEqual([{ appendCount: 50, eventCount: 100 }]);
    const positions = (await store.readAll({ afterPosition: null, eventCountMax: 200 })).map(
      (e) => e.position,
    );
    const firstPosition = positions[0] ?? 0n;
    expect(positions).toEqual(
      Array.from({ length: 100 }, (_, index) => firstPosition + BigInt(index)),
    );
    expect(results.map((result) => appended(result).lastPosition)).toEqual(
      positions.filter((_, i) => i % 2 === 1),
    );
    await store.close();
  });

  it('fails a conflicting append of a group alone; the others commit', async () => {
    const path = newPath();
    const store = createSqliteEventStore({ path });
    const [hot, cold] = [newStream(), newStream()];
    await store.append(hot, newEvents(hot, 1), { kind: 'no_stream' });
    const results = await Promise.all([
      store.append(hot, newEvents(hot, 1), { kind: 'exact', revision: 0 }),
      store.append(hot, newEvents(hot, 1), { kind: 'exact', revision: 0 }),
      store.append(cold, newEvents(cold, 1), { kind: 'no_stream' }),
    ]);
    expect(results.map((result) => result.ok)).toEqual([true, false, true]);
    await store.close();
    const reopened = createSqliteEventStore({ path });
    expect((await readWhole(reopened, hot)).length + (await readWhole(reopened, cold)).length).toBe(
      3,
    );
    await reopened.close();
  });

  it('keeps optimistic concurrency between two stores on one file despite caches', async () => {
    const path = newPath();
    const [mine, theirs] = [
      createSqliteEventStore({ path }),
      createSqliteEventStore({ path, subscriptionPollMs: 20 }),
    ];
    const stream = newStream();
    // `mine` caches revision 0, which `theirs` then makes stale.
    await mine.append(stream, newEvents(stream, 1), { kind: 'no_stream' });
    await theirs.append(stream, newEvents(stream, 1), { kind: 'exact', revision: 0 });
    await expect(
      mine.append(stream, newEvents(stream, 1), { kind: 'exact', revision: 0 }),
    ).resolves.toEqual(conflict(1));
    await theirs.append(stream, newEvents(stream, 1), { kind: 'exact', revision: 1 });

    const subscription = theirs.subscribeToAll({ afterPosition: null });
    const seen = follow(subscription, (event) => event.stream === stream);
    await seen.until(3);
    const caughtUp = await mine.append(stream, newEvents(stream, 1), {
      kind: 'exact',
      revision: 2,
    });
    expect(appended(caughtUp).lastRevision).toBe(3);
    await seen.until(4); // No notification crosses stores: `theirs` found it by polling the file.
    await subscription.close();
    expect(seen.received.map((event) => event.revision)).toEqual([0, 1, 2, 3]);
    await Promise.all([mine.close(), theirs.close()]);
  });

  it('refuses a file whose event store schema is newer than this code', async () => {
    const path = newPath();
    await createSqliteEventStore({ path }).close();
    const db = openSqliteDatabase(path);
    db.prepare("UPDATE schema_versions SET version = 99 WHERE component = 'event_store'").run();
    db.close();
    expect(() => createSqliteEventStore({ path })).toThrow('schema version 99');
  });
});
