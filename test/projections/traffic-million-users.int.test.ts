import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import type { DocumentChange, ReadModelStore } from '../../domain/ports/read-model-store.port';
import {
  initialTrafficUserState,
  type TrafficUserState,
} from '../../domain/traffic/traffic.decider';
import { positionKeyOf } from '../../projections/projection';
import { collectionIn } from '../../projections/read-models';
import {
  TRAFFIC,
  trafficDocumentOf,
  trafficStateOf,
  trafficProjection,
} from '../../projections/traffic.projection';
import {
  nextAfterUserIdOf,
  nodeUsersKeysetQuery,
  type NodeUsersFilter,
} from '../../projections/traffic.query';

/**
 * 1,000,000 users in the traffic read model (the embedded store, a file as the service has it),
 * loaded through the adapter's own commit in batches, as the projection writes them. Then the
 * node user list is walked to its end by keyset pages and users are read one by one, while the
 * process's memory is sampled: it must stay flat (bounded by HEAP_ and RSS_GROWTH_MAX_BYTES, whatever the
 * user count), and every answer must be the one the users' states imply.
 */
const USER_COUNT = 1_000_000;
const LOAD_BATCH_COUNT = 20_000;
const PAGE_SIZE = 100;
const USER_READ_COUNT = 20_000;
/**
 * Growth allowed over the walk, the heap measured after a full collection (its live set: the
 * users read are not kept) and the process's RSS (the read-model store's 64 MiB SQLite page
 * cache, filled by pages the load did not touch last, and heap pages V8 has not returned). The
 * documents alone are about 400 MB: memory that grew with the users read would pass both.
 */
const HEAP_GROWTH_MAX_BYTES = 32 * 1024 * 1024;
const RSS_GROWTH_MAX_BYTES = 192 * 1024 * 1024;
const GROUPS = ['default', 'asia', 'europe'] as const;
const collection = collectionIn(TRAFFIC, 1);

/** Plans running out on each of 90 days. */
const EXPIRIES = Array.from({ length: 90 }, (_, day) =>
  new Date(Date.UTC(2026, 0, 1 + day)).toISOString(),
);

const userIdOf = (index: number): string => `u${String(index).padStart(7, '0')}`;

/** User `index`'s state: levels 0-3, three groups, a spread of usage (every 7th over quota). */
const stateOf = (index: number): TrafficUserState => {
  const quotaBytes = index % 11 === 0 ? 0 : 1_000_000;
  const usedBytes = index % 7 === 0 ? 1_000_001 : (index * 37) % 1_000_000;
  return {
    ...initialTrafficUserState,
    quotaBytes,
    uploadBytes: Math.floor(usedBytes / 3),
    downloadBytes: usedBytes - Math.floor(usedBytes / 3),
    exceeded: usedBytes > quotaBytes,
    grantIds: quotaBytes > 0 ? [`g-${index}`] : [],
    level: index % 4,
    group: GROUPS[index % 3] ?? 'default',
    expiresAt: EXPIRIES[index % EXPIRIES.length] ?? null,
  };
};
const allowedOf = (state: TrafficUserState): boolean => state.quotaBytes > 0 && !state.exceeded;

const load = async (store: ReadModelStore): Promise<void> => {
  for (let first = 0; first < USER_COUNT; first += LOAD_BATCH_COUNT) {
    const changes: DocumentChange[] = [];
    for (let index = first; index < first + LOAD_BATCH_COUNT; index += 1) {
      const position = BigInt(index + 1);
      const last = {
        positionKey: positionKeyOf(position),
        position: position.toString(),
        updatedAt: '2026-01-01T00:00:00.000Z',
      };
      const userId = userIdOf(index);
      changes.push({
        kind: 'put',
        collection,
        id: userId,
        document: trafficDocumentOf(userId, stateOf(index), last),
      });
    }
    await store.commit(changes, null);
  }
};

type MemorySample = { rssBytes: number; heapUsedBytes: number };
// A full collection before each sample, so heapUsed is the live set rather than garbage V8 has
// not collected yet (which, under coverage, reached 195 MiB).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const sample = (): MemorySample => {
  collectGarbage();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssBytes: rss, heapUsedBytes: heapUsed };
};

/** Walks a filtered node list to its end; answers the ids seen and the time of each page. */
const walk = async (store: ReadModelStore, filter: NodeUsersFilter, onPage: () => void) => {
  let count = 0;
  let previous = '';
  let after: string | null = null;
  const pageMs: number[] = [];
  for (;;) {
    const started = performance.now();
    const documents = await store.findAfter(
      collection,
      nodeUsersKeysetQuery(filter, after, PAGE_SIZE),
    );
    pageMs.push(performance.now() - started);
    for (const document of documents) {
      const userId = String(document['userId']);
      const index = Number(userId.slice(1));
      const state = stateOf(index);
      // In id order, none twice, each one the filter asks for.
      if (!(userId > previous) || !allowedOf(state))
        throw new Error(`wrong user ${userId} after ${previous}`);
      if (filter.level !== null && state.level !== filter.level)
        throw new Error(`level of ${userId}`);
      if (filter.group !== null && state.group !== filter.group)
        throw new Error(`group of ${userId}`);
      if (filter.expiresFrom !== null && (state.expiresAt ?? '') < filter.expiresFrom)
        throw new Error(`expiry of ${userId}`);
      previous = userId;
      count += 1;
    }
    onPage();
    after = nextAfterUserIdOf(
      documents.map((document) => ({ userId: document['userId'] })),
      PAGE_SIZE,
    );
    if (after === null) return { count, pageMs };
  }
};

const quantile = (values: readonly number[], q: number): number =>
  [...values].sort((left, right) => left - right)[Math.floor(q * (values.length - 1))] ?? 0;

describe('the traffic read model with 1,000,000 users', () => {
  const dir = mkdtempSync(join(tmpdir(), 'million-users-'));
  const path = join(dir, 'read-models.sqlite');
  let store: ReadModelStore;
  beforeAll(async () => {
    store = createSqliteReadModelStore({ path });
    for (const spec of trafficProjection.collections)
      await store.ensureCollection({ ...spec, name: collectionIn(spec.name, 1) });
    const started = performance.now();
    await load(store);
    process.stdout.write(
      `loaded ${USER_COUNT} users in ${Math.round(performance.now() - started)} ms\n`,
    );
  }, 300_000); // About 35 s of CPU; minutes on a machine shared with other work.
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks the node user list to its end and reads users with flat memory and right answers', async () => {
    let expectedAllowed = 0;
    let expectedFiltered = 0;
    const filtered: NodeUsersFilter = {
      level: 2,
      group: 'asia',
      expiresFrom: '2026-02-15T00:00:00.000Z',
    };
    for (let index = 0; index < USER_COUNT; index += 1) {
      const state = stateOf(index);
      if (!allowedOf(state)) continue;
      expectedAllowed += 1;
      if (
        state.level === 2 &&
        state.group === 'asia' &&
        (state.expiresAt ?? '') >= '2026-02-15T00:00:00.000Z'
      )
        expectedFiltered += 1;
    }
    const baseline = sample();
    const samples: MemorySample[] = [];
    let pages = 0;
    const onPage = () => {
      pages += 1;
      if (pages % 500 === 0) samples.push(sample());
    };
    const started = performance.now();
    const everyone = await walk(store, { level: null, group: null, expiresFrom: null }, onPage);
    const walkMs = performance.now() - started;
    expect(everyone.count).toBe(expectedAllowed);
    const some = await walk(store, filtered, onPage);
    expect(some.count).toBe(expectedFiltered);

    // Users read one by one, spread over the whole id range.
    for (let read = 0; read < USER_READ_COUNT; read += 1) {
      const index = (read * 7_919 * 13) % USER_COUNT;
      const document = await store.get(collection, userIdOf(index));
      const state = stateOf(index);
      expect(document === null ? null : trafficStateOf(document)).toEqual(state);
      if (read % 1_000 === 0) samples.push(sample());
    }
    const peak = {
      rssBytes: Math.max(...samples.map((s) => s.rssBytes)),
      heapUsedBytes: Math.max(...samples.map((s) => s.heapUsedBytes)),
    };
    const growth = {
      rssBytes: peak.rssBytes - baseline.rssBytes,
      heapUsedBytes: peak.heapUsedBytes - baseline.heapUsedBytes,
    };
    process.stdout.write(
      `${pages} pages (${everyone.count} + ${some.count} users) in ${Math.round(walkMs)} ms for the whole list; ` +
        `page p50 ${quantile(everyone.pageMs, 0.5).toFixed(2)} ms, p99 ${quantile(everyone.pageMs, 0.99).toFixed(2)} ms, ` +
        `filtered p99 ${quantile(some.pageMs, 0.99).toFixed(2)} ms; baseline RSS ${Math.round(baseline.rssBytes / 2 ** 20)} MiB, ` +
        `growth RSS ${Math.round(growth.rssBytes / 2 ** 20)} MiB, heap ${Math.round(growth.heapUsedBytes / 2 ** 20)} MiB\n`,
    );
    expect(samples.length).toBeGreaterThan(10);
    expect(growth.rssBytes).toBeLessThan(RSS_GROWTH_MAX_BYTES);
    expect(growth.heapUsedBytes).toBeLessThan(HEAP_GROWTH_MAX_BYTES);
  }, 180_000);

  it('reads a keyset page and a user along indexes, never scanning the collection', () => {
    const database = openSqliteDatabase(path);
    try {
      const plan = (sql: string): string =>
        (database.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[])
          .map((step) => step.detail)
          .join(' | ');
      const table = `rm_${collection}`;
      const page = plan(
        `SELECT body FROM ${table} WHERE f_allowed = 1 AND (f_userId, id) > ('u0500000', 'u0500000') ORDER BY f_userId ASC, id ASC LIMIT 100`,
      );
      // The narrow table's indexes end with its key, the id: the seek is on (userId, id) whole.
      expect(page).toContain(
        `SEARCH ${table} USING INDEX ${table}__allowed__userId (f_allowed=? AND (f_userId,id)>(?,?))`,
      );
      const levelPage = plan(
        `SELECT body FROM ${table} WHERE f_allowed = 1 AND f_level = 2 AND (f_userId, id) > ('u0500000', 'u0500000') ORDER BY f_userId ASC, id ASC LIMIT 100`,
      );
      expect(levelPage).toContain(
        `USING INDEX ${table}__allowed__level__userId (f_allowed=? AND f_level=? AND (f_userId,id)>(?,?))`,
      );
      const user = plan(`SELECT body FROM ${table} WHERE id = 'u0500000'`);
      // A narrow table is keyed by the id itself (WITHOUT ROWID).
      expect(user).toContain(`SEARCH ${table} USING PRIMARY KEY (id=?)`);
      for (const shown of [page, levelPage, user]) expect(shown).not.toMatch(/SCAN /);
    } finally {
      database.close();
    }
  });
});
