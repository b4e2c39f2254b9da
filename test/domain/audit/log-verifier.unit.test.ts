import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { openSignedCheckpointStore } from '../../../adapters/audit/sqlite.signed-checkpoint-store';
import { createInMemoryEventStore } from '../../../adapters/eventstore/in-memory.event-store';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';
import {
  checkpointHashOf,
  keyIdOf,
  signCheckpoint,
  type SignedCheckpoint,
} from '../../../domain/audit/log-checkpoint';
import { createLogVerifier } from '../../../domain/audit/log-verifier';
import type { EventStore, RecordedEvent } from '../../../domain/ports/event-store.port';
import { writeCheckpoint } from '../../../projections/log-checkpoints';
import { openAccount, createLedger } from '../../support/ledger-harness';

/** The checkpoints themselves tampered with: each is named, and it and those after are not used. */
const keyPair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
};

const allEvents = async (store: EventStore): Promise<readonly RecordedEvent[]> =>
  store.readAll({ afterPosition: null, eventCountMax: 10_000 });

const verify = async (
  store: EventStore,
  checkpoints: readonly SignedCheckpoint[],
  keys: readonly { keyId: string; publicKey: KeyObject }[],
) => {
  const verifier = createLogVerifier(
    checkpoints,
    new Map(keys.map((key) => [key.keyId, key.publicKey])),
  );
  (await allEvents(store)).forEach(verifier.visit);
  return verifier.report();
};

describe('the log verifier on tampered checkpoints', () => {
  const first = keyPair();
  const second = keyPair();
  let store: EventStore;
  let checkpoints: SignedCheckpoint[];
  beforeEach(async () => {
    store = createInMemoryEventStore();
    const log = openSignedCheckpointStore(openSqliteDatabase(':memory:'));
    const ledger = createLedger(store);
    const now = () => new Date('2026-12-06T09:00:00.000Z');
    await openAccount(ledger, 'a');
    await writeCheckpoint(store, log, first, { now, force: false });
    await openAccount(ledger, 'b');
    // The key rotated: the second checkpoint is signed by another key.
    await writeCheckpoint(store, log, second, { now, force: false });
    checkpoints = log.all();
    expect(checkpoints.map((checkpoint) => checkpoint.body.keyId)).toEqual([
      first.keyId,
      second.keyId,
    ]);
  });

  it('trusts both keys of a rotation, and only what the keys given signed', async () => {
    expect(await verify(store, checkpoints, [first, second])).toMatchObject({
      ok: true,
      latestCheckpoint: { sequence: 2 },
    });
    const onlyNew = await verify(store, checkpoints, [second]);
    expect(onlyNew.checkpointProblems).toEqual([
      { sequence: 1, problem: `signed by key ${first.keyId}, which is not trusted` },
    ]);
    expect(onlyNew).toMatchObject({ ok: false, latestCheckpoint: null });
  });

  it('names an edited head, an edited body, a missing checkpoint and a broken link', async () => {
    const [one, two] = checkpoints as [SignedCheckpoint, SignedCheckpoint];
    const problemOf = async (tampered: SignedCheckpoint[]) =>
      (await verify(store, tampered, [first, second])).checkpointProblems;

    const editedHead = {
      ...one,
      changedHeads: one.changedHeads.map((head) => ({ ...head, revision: head.revision + 1 })),
    };
    expect(await problemOf([editedHead, two])).toEqual([
      { sequence: 1, problem: 'stream heads differ from the signed Merkle root' },
    ]);

    const editedBody = { ...two, body: { ...two.body, eventCount: two.body.eventCount - 1 } };
    expect(await problemOf([one, editedBody])).toEqual([
      { sequence: 2, problem: 'signature invalid' },
    ]);

    expect(await problemOf([two])).toEqual([
      { sequence: 2, problem: 'sequence 2 where 1 was due' },
    ]);

    // Re-signed with the right key, but chained to something else than checkpoint 1.
    const unlinkedBody = { ...two.body, previousHash: 'f'.repeat(64) };
    const unlinked = {
      ...two,
      body: unlinkedBody,
      hash: checkpointHashOf(unlinkedBody),
      signature: signCheckpoint(unlinkedBody, second.privateKey),
    };
    expect(await problemOf([one, unlinked])).toEqual([
      { sequence: 2, problem: 'not chained to the previous checkpoint (previousHash differs)' },
    ]);
  });
});
