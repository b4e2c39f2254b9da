import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSignedCheckpointStore } from '../../adapters/audit/sqlite.signed-checkpoint-store';
import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { keyIdOf, type StreamHead } from '../../domain/audit/log-checkpoint';
import { isCheckpointStream } from '../../domain/audit/checkpoint-events';
import { EMPTY_CHAIN, type ChainTail } from '../../domain/event-chain';
import type { EventStore } from '../../domain/ports/event-store.port';
import { writeCheckpoint } from '../../projections/log-checkpoints';
import { seal } from '../adapters/event-store-contract/fixtures';
import { createLedger, openAccount } from '../support/ledger-harness';

const signer = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, keyId: keyIdOf(publicKey) };
})();
const now = () => new Date('2026-12-07T01:00:00.000Z');

/** The heads a checkpoint must anchor, from every event read and parsed (what it used to do). */
const headsFromEveryEvent = async (store: EventStore, afterPosition: bigint | null) => {
  const heads = new Map<string, StreamHead>();
  let eventCount = 0;
  for (const event of await store.readAll({ afterPosition, eventCountMax: 100_000 })) {
    if (isCheckpointStream(event.stream)) continue;
    eventCount += 1;
    const { stream, revision } = event;
    heads.set(stream, { stream, revision, hash: event.metadata.hash });
  }
  return { heads: [...heads.values()], eventCount };
};

/** The store with readAll refused: the checkpointer must not read (and parse) every event. */
const withoutReadAll = (store: EventStore): EventStore => ({
  ...store,
  readAll: () => Promise.reject(new Error('the checkpointer read every event')),
});

describe.each([
  ['in-memory', () => createInMemoryEventStore()],
  ['sqlite', () => createSqliteEventStore({ path: ':memory:' })],
])('a checkpoint of the %s log', (_name, open) => {
  it('anchors each moved stream at its last event without reading the events', async () => {
    const store = open();
    const log = openSignedCheckpointStore(openSqliteDatabase(':memory:'));
    const ledger = createLedger(store);
    await openAccount(ledger, 'a');
    await openAccount(ledger, 'b');
    const expectedFirst = await headsFromEveryEvent(store, null);
    const first = await writeCheckpoint(withoutReadAll(store), log, signer, { now, force: false });
    expect(first?.changedHeads).toEqual(expectedFirst.heads);
    expect(first?.body.eventCount).toBe(expectedFirst.eventCount);

    const before = await store.headPosition();
    await openAccount(ledger, 'c');
    await openAccount(ledger, 'a2');
    const expectedSecond = await headsFromEveryEvent(store, before);
    const second = await writeCheckpoint(withoutReadAll(store), log, signer, { now, force: false });
    // The first checkpoint's copy in the log moved too, and is counted with the rest.
    expect(second?.changedHeads.filter((head) => !isCheckpointStream(head.stream))).toEqual(
      expectedSecond.heads,
    );
    expect(second?.body.eventCount).toBe(
      (first?.body.eventCount ?? 0) + expectedSecond.eventCount + 1,
    );
    await store.close();
  });

  it('reads the heads page by page past 10,000 events, as a fold over every event gives them', async () => {
    const store = open();
    const log = openSignedCheckpointStore(openSqliteDatabase(':memory:'));
    // Three streams written in turns, so each page ends inside each stream.
    const tails = new Map<string, ChainTail>();
    for (let round = 0; round < 21; round += 1) {
      for (const stream of ['account-p', 'account-q', 'account-r']) {
        const tail = tails.get(stream) ?? EMPTY_CHAIN;
        const sealed = seal(stream, 173, tail);
        const expected =
          tail.nextRevision === 0
            ? ({ kind: 'no_stream' } as const)
            : ({ kind: 'exact', revision: tail.nextRevision - 1 } as const);
        await store.append(stream, sealed.events, expected);
        tails.set(stream, sealed.tail);
      }
    }
    const expected = await headsFromEveryEvent(store, null);
    expect(expected.eventCount).toBe(21 * 3 * 173);
    const written = await writeCheckpoint(withoutReadAll(store), log, signer, {
      now,
      force: false,
    });
    expect(written?.changedHeads).toEqual(expected.heads);
    expect(written?.body).toMatchObject({ eventCount: expected.eventCount, streamCount: 3 });
    await store.close();
  });
});

describe('a checkpoint of a damaged SQLite log', () => {
  it.each([
    ['metadata without its hash', `json_remove(metadata, '$.hash')`, 'metadata without hash'],
    ['metadata that is not JSON', `'{not json'`, 'metadata is not JSON'],
  ])('is not signed over %s', async (_name, damage, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'log-checkpoints-'));
    try {
      const path = join(dir, 'events.sqlite');
      const store = createSqliteEventStore({ path });
      // One append of one stream: the last event is that stream's head, and nothing else writes.
      await store.append('account-d', seal('account-d', 3, EMPTY_CHAIN).events, {
        kind: 'no_stream',
      });
      await store.close();
      const db = new Database(path);
      const damaged = db
        .prepare(
          `UPDATE events SET metadata = ${damage} WHERE stream = 'account-d' AND revision = 2`,
        )
        .run();
      db.close();
      expect(damaged.changes).toBe(1);
      const reopened = createSqliteEventStore({ path });
      const log = openSignedCheckpointStore(openSqliteDatabase(':memory:'));
      await expect(writeCheckpoint(reopened, log, signer, { now, force: false })).rejects.toThrow(
        message,
      );
      expect(log.latest()).toBeNull();
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
