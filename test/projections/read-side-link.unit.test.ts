import { MessageChannel } from 'node:worker_threads';
import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import type { EventStore } from '../../domain/ports/event-store.port';
import type { ReadModelStore } from '../../domain/ports/read-model-store.port';
import type { WatchedChange } from '../../projections/projection';
import { collectionIn } from '../../projections/read-models';
import { RebuildInProgressError } from '../../projections/read-side';
import {
  createReadSideMirror,
  hostReadSide,
  type FromReadSideHost,
  type ReadSideHost,
  type ReadSideMirror,
  type ToReadSideHost,
} from '../../projections/read-side-link';
import { transferToWalletB, writeHistory } from './support/ledger-fixture';

const limits = {
  batchEventCountMax: 64,
  waiterCountMax: 10,
  watcherCountMax: 10,
  lagEventCountMax: 100,
  switchPollMs: 60_000,
};

type Linked = {
  mirror: ReadSideMirror;
  host: ReadSideHost;
  /** Every message the host sent, as the mirror received it. */
  received: FromReadSideHost[];
  close: () => Promise<void>;
};

/** Host and mirror on the two ports of a MessageChannel: every message is structured-cloned. */
const link = async (eventStore: EventStore, store: ReadModelStore): Promise<Linked> => {
  const channel = new MessageChannel();
  const received: FromReadSideHost[] = [];
  channel.port2.on('message', (message: FromReadSideHost) => received.push(message));
  const mirror = createReadSideMirror({
    store,
    eventStore,
    limits,
    nowMs: Date.now,
    link: {
      post: (message: ToReadSideHost) => channel.port2.postMessage(message),
      onMessage: (listener) => channel.port2.on('message', listener),
    },
  });
  const host = await hostReadSide(
    {
      eventStore,
      store,
      limits,
      nowMs: Date.now,
      onError: (error) => {
        throw error;
      },
    },
    {
      post: (message: FromReadSideHost) => channel.port1.postMessage(message),
      onMessage: (listener) => channel.port1.on('message', listener),
    },
  );
  await mirror.ready;
  return {
    mirror,
    host,
    received,
    close: async () => {
      mirror.close();
      await host.stop();
      channel.port1.close();
    },
  };
};

describe('the read side across a message link (as between the API thread and its worker)', () => {
  let eventStore: EventStore;
  let linked: Linked | null = null;
  beforeEach(async () => {
    eventStore = createInMemoryEventStore();
    await writeHistory(eventStore);
  });
  afterEach(async () => {
    await linked?.close();
    linked = null;
  });

  it('learns every commit, so read-your-writes waits settle, and reports the lag', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    linked = await link(eventStore, store);
    const { mirror } = linked;
    expect(mirror.activeGeneration()).toBe(1);
    const position = await transferToWalletB(eventStore, 't-link-1');
    expect(await mirror.waitForPosition(position, 5000)).toBe(true);
    expect(mirror.appliedPosition()).toBe(position);
    const wallet = await mirror.store.get(collectionIn('accounts', 1), 'wallet-b');
    expect(wallet?.['view']).toMatchObject({ balanceMinor: 305 });
    expect(await mirror.lag()).toMatchObject({ eventsBehind: 0, appliedPosition: `${position}` });
    expect(await mirror.waitForPosition(position + 1000n, 20)).toBe(false);
  });

  it('carries the changes of watched streams only, from the moment watch() settles', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    linked = await link(eventStore, store);
    const { mirror, received } = linked;
    const seen: WatchedChange[] = [];
    const unwatch = await mirror.watch('account-wallet-b', (change) => seen.push(change));
    const first = await transferToWalletB(eventStore, 't-link-1');
    await mirror.waitForPosition(first, 5000);
    expect(seen.map((change) => [change.stream, change.view['balanceMinor']])).toEqual([
      ['account-wallet-b', 305],
    ]);
    const crossed = received.flatMap((message) =>
      message.kind === 'committed' ? message.changes.map((change) => change.stream) : [],
    );
    expect(new Set(crossed)).toEqual(new Set(['account-wallet-b']));
    unwatch?.();
    const second = await transferToWalletB(eventStore, 't-link-2');
    await mirror.waitForPosition(second, 5000);
    expect(seen).toHaveLength(1); // Dropped here at once, whatever the host still sends.
    // By now the host has read the 'unwatch' posted before the second transfer: nothing crosses.
    const third = await transferToWalletB(eventStore, 't-link-3');
    await mirror.waitForPosition(third, 5000);
    const last = received.filter((message) => message.kind === 'committed').at(-1);
    expect(last).toMatchObject({ kind: 'committed', position: third, changes: [] });
    expect(seen).toHaveLength(1);
  });

  it('runs a rebuild on the host, refuses a second one while it runs, and switches over', async () => {
    const store = createSqliteReadModelStore({ path: ':memory:' });
    linked = await link(eventStore, store);
    const { mirror } = linked;
    const rebuilt = mirror.rebuild({ untilPosition: null, untilTime: null });
    expect(mirror.rebuilding()).toBe(true);
    await expect(mirror.rebuild({ untilPosition: null, untilTime: null })).rejects.toBeInstanceOf(
      RebuildInProgressError,
    );
    const summary = await rebuilt;
    expect(summary).toMatchObject({ generation: 2, switched: true });
    expect(mirror.rebuilding()).toBe(false);
    // Told of the switch with it, before any new event: the old generation's tables are dropped.
    expect(mirror.activeGeneration()).toBe(2);
    const idle = await mirror.store.get(collectionIn('accounts', 2), 'wallet-b');
    expect(idle?.['view']).toMatchObject({ balanceMinor: 300 });
    const position = await transferToWalletB(eventStore, 't-link-4');
    expect(await mirror.waitForPosition(position, 5000)).toBe(true);
    expect(mirror.activeGeneration()).toBe(2);
    expect(
      (await mirror.generations()).map((record) => [record.generation, record.status]),
    ).toEqual(expect.arrayContaining([[2, 'live']]));
    const wallet = await mirror.store.get(collectionIn('accounts', 2), 'wallet-b');
    expect(wallet?.['view']).toMatchObject({ balanceMinor: 305 });
  });
});
