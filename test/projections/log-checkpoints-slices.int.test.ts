import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { openSignedCheckpointStore } from '../../adapters/audit/sqlite.signed-checkpoint-store';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import {
  CHECKPOINT_FORMAT,
  keyIdOf,
  streamsRootOf,
  type SignedCheckpoint,
  type StreamHead,
} from '../../domain/audit/log-checkpoint';
import { EMPTY_CHAIN, GENESIS_HASH, type ChainTail } from '../../domain/event-chain';
import type { EventStore } from '../../domain/ports/event-store.port';
import { createCheckpointerMemory, writeCheckpoint } from '../../projections/log-checkpoints';
import { seal } from '../adapters/event-store-contract/fixtures';

const signer = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, keyId: keyIdOf(publicKey) };
})();
const now = () => new Date('2026-12-07T04:00:00.000Z');

/** Every stream's head at positions up to `untilPosition`, from every event read. */
const headsUpTo = async (store: EventStore, untilPosition: bigint) => {
  const heads = new Map<string, StreamHead>();
  for (const event of await store.readAll({ afterPosition: null, eventCountMax: 1_000_000 }))
    if (event.position <= untilPosition)
      heads.set(event.stream, {
        stream: event.stream,
        revision: event.revision,
        hash: event.metadata.hash,
      });
  return heads;
};

describe('a checkpoint written in slices', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-checkpoint-slices-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('anchors exactly the heads at its head position while appends go on between its slices', async () => {
    const store = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
    const log = openSignedCheckpointStore(openSqliteDatabase(join(dir, 'checkpoints.sqlite')));
    const memory = createCheckpointerMemory();
    const tails = new Map<string, ChainTail>();
    const appendTo = async (stream: string): Promise<void> => {
      const tail = tails.get(stream) ?? EMPTY_CHAIN;
      const sealed = seal(stream, 2, tail);
      const expected =
        tail.nextRevision === 0
          ? { kind: 'no_stream' as const }
          : { kind: 'exact' as const, revision: tail.nextRevision - 1 };
      await store.append(stream, sealed.events, expected);
      tails.set(stream, sealed.tail);
    };
    for (let index = 0; index < 1_500; index += 1) await appendTo(`account-${index % 700}`);
    let appendedMeanwhile = 0;
    let writing = true;
    const appendMeanwhile = async (): Promise<void> => {
      for (let index = 0; writing; index += 1) {
        await appendTo(`account-${(index * 7) % 900}`);
        appendedMeanwhile += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const meanwhile = appendMeanwhile();
    const first = await writeCheckpoint(store, log, signer, { now, force: false, memory });
    for (let index = 0; index < 300; index += 1) await appendTo(`transfer-${index % 250}`);
    const second = await writeCheckpoint(store, log, signer, { now, force: false, memory });
    writing = false;
    await meanwhile;
    // The appends did interleave with the checkpoints' slices.
    expect(appendedMeanwhile).toBeGreaterThan(10);
    for (const checkpoint of [first, second]) {
      if (checkpoint === null) throw new Error('no checkpoint written');
      const heads = await headsUpTo(store, BigInt(checkpoint.body.headPosition ?? '0'));
      expect(checkpoint.body.streamCount).toBe(heads.size);
      expect(checkpoint.body.streamsRoot).toBe(streamsRootOf(heads));
    }
    // A process starting afresh (no memory) computes the same next checkpoint from the store.
    await appendTo('account-1');
    const fresh = await writeCheckpoint(store, log, signer, { now, force: false });
    const heads = await headsUpTo(store, BigInt(fresh?.body.headPosition ?? '0'));
    expect(fresh?.body.streamsRoot).toBe(streamsRootOf(heads));
    await store.close();
  });

  it('leaves no part of a checkpoint when its process dies between two slices', async () => {
    const path = join(dir, 'checkpoints.sqlite');
    const heads = Array.from({ length: 500 }, (_, index) => ({
      stream: `account-${index}`,
      revision: index,
      hash: GENESIS_HASH,
    }));
    const checkpoint: SignedCheckpoint = {
      body: {
        format: CHECKPOINT_FORMAT,
        sequence: 1,
        createdAt: now().toISOString(),
        headPosition: '500',
        eventCount: 500,
        streamCount: heads.length,
        streamsRoot: GENESIS_HASH,
        previousHash: GENESIS_HASH,
        keyId: signer.keyId,
      },
      hash: GENESIS_HASH,
      signature: 'c2lnbmF0dXJl',
      changedHeads: heads,
    };
    // The built adapter (npm run build first) in a child killed at its second slice.
    const adapter = resolve(__dirname, '../../dist/adapters/audit/sqlite.signed-checkpoint-store');
    const database = resolve(__dirname, '../../dist/adapters/sqlite/open-database');
    const script = `
      const { openSignedCheckpointStore } = require(${JSON.stringify(adapter)});
      const { openSqliteDatabase } = require(${JSON.stringify(database)});
      const log = openSignedCheckpointStore(openSqliteDatabase(${JSON.stringify(path)}));
      let paces = 0;
      log.append(JSON.parse(process.env.CHECKPOINT), async () => {
        paces += 1;
        if (paces === 2) process.kill(process.pid, 'SIGKILL');
      });`;
    const killed = await promisify(execFile)(process.execPath, ['-e', script], {
      env: { ...process.env, CHECKPOINT: JSON.stringify(checkpoint) },
    }).then(
      () => null,
      (error: unknown) => error as { signal?: string },
    );
    expect(killed?.signal).toBe('SIGKILL');
    const db = openSqliteDatabase(path);
    const log = openSignedCheckpointStore(db);
    expect(log.latest()).toBeNull();
    expect(log.all()).toEqual([]);
    expect(log.headsAfter(null, 1_000)).toEqual([]);
    // The next attempt writes the whole checkpoint.
    await log.append(checkpoint, () => Promise.resolve());
    expect(log.all()[0]?.changedHeads).toHaveLength(500);
    expect(log.headsAfter(null, 1_000)).toHaveLength(500);
    db.close();
  });

  it('rolls a failed append back, so that the same sequence can be written again', async () => {
    const db = openSqliteDatabase(join(dir, 'checkpoints.sqlite'));
    const log = openSignedCheckpointStore(db);
    const changedHeads = Array.from({ length: 200 }, (_, index) => ({
      stream: `s-${index}`,
      revision: 0,
      hash: GENESIS_HASH,
    }));
    const checkpoint: SignedCheckpoint = {
      body: {
        format: CHECKPOINT_FORMAT,
        sequence: 1,
        createdAt: now().toISOString(),
        headPosition: '200',
        eventCount: 200,
        streamCount: 200,
        streamsRoot: GENESIS_HASH,
        previousHash: GENESIS_HASH,
        keyId: signer.keyId,
      },
      hash: GENESIS_HASH,
      signature: 'c2lnbmF0dXJl',
      changedHeads,
    };
    await expect(
      log.append(checkpoint, () => Promise.reject(new Error('disk gone'))),
    ).rejects.toThrow('disk gone');
    expect(db.inTransaction).toBe(false);
    expect(log.latest()).toBeNull();
    expect(log.headsAfter(null, 1_000)).toEqual([]);
    await log.append(checkpoint, () => Promise.resolve());
    expect(log.latest()?.body.sequence).toBe(1);
    db.close();
  });
});
