import { createInMemoryNodePresenceStore } from '../../../adapters/presence/in-memory.node-presence-store';
import { createNodePresence, type PresenceChange } from '../../../domain/node/node-presence';
import { nodeStatusAggregate } from '../../../domain/node/node-status.decider';
import type { EventStore } from '../../../domain/ports/event-store.port';
import type { NodePresenceStore } from '../../../domain/ports/node-presence-store.port';
import { createLedger } from '../../support/ledger-harness';

const startMs = Date.parse('2026-03-01T00:00:00.000Z');
const SILENT_AFTER_MS = 30_000;
const heartbeat = { onlineUserCount: 12, loadPercent: 40, version: '1.2.0' };

/** A presence over a real runtime and event store, with a clock the test moves. */
const presenceAt = (options: { store?: EventStore; presenceStore?: NodePresenceStore } = {}) => {
  let nowMs = startMs;
  const changes: PresenceChange[] = [];
  const { runtime, store } = createLedger(options.store);
  const presenceStore =
    options.presenceStore ??
    createInMemoryNodePresenceStore({ ttlMs: 2 * SILENT_AFTER_MS, nowMs: () => nowMs });
  const presence = createNodePresence({
    store: presenceStore,
    runtime,
    nowMs: () => nowMs,
    silentAfterMs: SILENT_AFTER_MS,
    onChange: (change) => changes.push(change),
  });
  const events = async () =>
    (
      await store.readStream('nodestatus-n1', {
        fromRevision: 0,
        direction: 'forwards',
        eventCountMax: 100,
      })
    ).map((event) => event.type);
  return { presence, changes, store, events, advance: (ms: number) => (nowMs += ms) };
};

describe('node presence', () => {
  it('records came online, went silent one ms past the deadline, came back: each once', async () => {
    const { presence, changes, advance, events } = presenceAt();
    expect((await presence.view('n1')).status).toBe('unknown');
    await presence.heartbeat('n1', heartbeat);
    expect(await presence.view('n1')).toMatchObject({ status: 'online', onlineUserCount: 12 });
    expect(await presence.sweep(['n1'])).toMatchObject([{ event: 'NodeCameOnline' }]);
    advance(SILENT_AFTER_MS);
    expect(await presence.sweep(['n1'])).toEqual([]);
    advance(1);
    expect(await presence.sweep(['n1'])).toEqual([
      {
        nodeId: 'n1',
        event: 'NodeWentSilent',
        to: 'silent',
        lastHeartbeatAt: '2026-03-01T00:00:00.000Z',
      },
    ]);
    expect(await presence.sweep(['n1'])).toEqual([]); // One event and one alert per silence.
    expect(await presence.view('n1')).toMatchObject({ status: 'silent', onlineUserCount: 12 });
    await presence.heartbeat('n1', { ...heartbeat, onlineUserCount: 3 });
    expect(await presence.sweep(['n1'])).toMatchObject([{ event: 'NodeCameBack', to: 'online' }]);
    expect(changes.map(({ event }) => event)).toEqual([
      'NodeCameOnline',
      'NodeWentSilent',
      'NodeCameBack',
    ]);
    expect(await events()).toEqual(['NodeCameOnline', 'NodeWentSilent', 'NodeCameBack']);
  });

  it('writes nothing to the log for 100 concurrent heartbeats of an online node', async () => {
    const { presence, store } = presenceAt();
    await presence.heartbeat('n1', heartbeat);
    await presence.sweep(['n1']);
    const headBefore = await store.headPosition();
    const views = await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        presence.heartbeat('n1', { ...heartbeat, onlineUserCount: index }),
      ),
    );
    expect(await presence.sweep(['n1'])).toEqual([]);
    expect(await store.headPosition()).toBe(headBefore);
    expect(views.map((view) => view.status)).toEqual(Array(100).fill('online'));
    expect((await presence.view('n1')).heartbeatCount).toBe(101);
  });

  it('never records silence for a node never heard from', async () => {
    const { presence, advance, store } = presenceAt();
    advance(SILENT_AFTER_MS + 1);
    expect(await presence.sweep(['n1'])).toEqual([]);
    expect(await store.headPosition()).toBeNull();
    expect((await presence.view('n1')).status).toBe('unknown');
  });

  it('records a change once when two instances observe it', async () => {
    const first = presenceAt();
    const shared = createInMemoryNodePresenceStore({
      ttlMs: 2 * SILENT_AFTER_MS,
      nowMs: () => startMs,
    });
    const one = presenceAt({ store: first.store, presenceStore: shared });
    const two = presenceAt({ store: first.store, presenceStore: shared });
    await one.presence.heartbeat('n1', heartbeat);
    const [a, b] = await Promise.all([one.presence.sweep(['n1']), two.presence.sweep(['n1'])]);
    expect([...a, ...b].map(({ event }) => event)).toEqual(['NodeCameOnline']);
    expect(await first.events()).toEqual(['NodeCameOnline']);
    expect(nodeStatusAggregate.category).toBe('nodestatus');
  });

  it('after a restart shows the recorded status, and goes silent a timeout after the start', async () => {
    const before = presenceAt();
    await before.presence.heartbeat('n1', heartbeat);
    await before.presence.sweep(['n1']);
    const after = presenceAt({ store: before.store }); // A new process: an empty presence store.
    expect(await after.presence.view('n1')).toMatchObject({
      status: 'online',
      lastHeartbeatAt: '2026-03-01T00:00:00.000Z',
      onlineUserCount: null,
      heartbeatCount: 0,
    });
    expect(await after.presence.sweep(['n1'])).toEqual([]);
    after.advance(SILENT_AFTER_MS + 1);
    expect(await after.presence.sweep(['n1'])).toMatchObject([
      { event: 'NodeWentSilent', lastHeartbeatAt: null },
    ]);
    expect(await after.presence.view('n1')).toMatchObject({
      status: 'silent',
      lastHeartbeatAt: '2026-03-01T00:00:00.000Z',
    });
  });
});
