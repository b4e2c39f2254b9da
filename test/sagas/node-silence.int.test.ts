import { createNatsNodePresenceStore } from '../../adapters/presence/nats.node-presence-store';
import { createActorRuntime } from '../../domain/actors/actor-runtime';
import { createNodePresence, type PresenceChange } from '../../domain/node/node-presence';
import type { AuditRecord } from '../../domain/ports/audit.port';
import type { BusMessage } from '../../domain/ports/bus.port';
import { eventually, eventuallyTrue } from '../support/eventually';
import { testLimits } from '../support/ledger-harness';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import { startSagaRig, type SagaRig } from './support/saga-harness';

/**
 * Two instances on one NATS and one event store: each has its own runtime and its own
 * connection to the presence bucket. A heartbeat taken by one is seen by the other; a silence
 * both observe is recorded once and alerted once on ledger.audit.node_silent.
 */
const SILENT_AFTER_MS = 30_000;
const WAIT = { timeoutMs: 10_000 };
let server: NatsServer;
let rig: SagaRig;

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(() => server.stop());
afterEach(() => rig.stop());

it('two instances share heartbeats, record each change once, and alert a silence on the bus', async () => {
  rig = await startSagaRig({
    nats: {
      url: server.url,
      streamName: 'NODES',
      retention: 'limits',
      maxAgeMs: 600_000,
      replicas: 1,
      duplicateWindowMs: 120_000,
    },
  });
  const alerts: BusMessage[] = [];
  await rig.messaging.bus.consume(
    {
      durableName: 'test_node_alerts',
      subjects: ['ledger.audit.>'],
      ackWaitMs: 1000,
      deliveryCountMax: 3,
      backoffMs: [10],
    },
    (message) => {
      alerts.push(message);
      return Promise.resolve({ kind: 'ack' });
    },
  );
  let nowMs = Date.parse('2026-03-01T00:00:00.000Z');
  const changes: PresenceChange[] = [];
  const instance = async (runtime: typeof rig.runtime) => {
    const store = await createNatsNodePresenceStore({
      servers: server.url,
      bucket: 'ledger_node_presence',
      ttlMs: 2 * SILENT_AFTER_MS,
      retryPauseMs: 100,
      nowMs: () => nowMs,
      onWarning: () => undefined,
    });
    const presence = createNodePresence({
      store,
      runtime,
      nowMs: () => nowMs,
      silentAfterMs: SILENT_AFTER_MS,
      onChange: (change) => changes.push(change),
    });
    return { store, presence };
  };
  const one = await instance(rig.runtime);
  const otherRuntime = createActorRuntime(rig.store, testLimits);
  const two = await instance(otherRuntime);
  try {
    const headBefore = await rig.store.headPosition();
    await one.presence.heartbeat('tokyo-1', { onlineUserCount: 42, loadPercent: 3, version: '1' });
    const seen = await eventually(
      async () => {
        const view = await two.presence.view('tokyo-1');
        return view.status === 'online' ? view : undefined;
      },
      { ...WAIT, what: 'the second instance sees the heartbeat' },
    );
    expect(seen).toMatchObject({ onlineUserCount: 42, heartbeatCount: 1 });
    expect(await rig.store.headPosition()).toBe(headBefore); // A heartbeat writes no event.

    const both = async () =>
      [
        ...(await Promise.all([one.presence.sweep(['tokyo-1']), two.presence.sweep(['tokyo-1'])])),
      ].flat();
    expect((await both()).map(({ event }) => event)).toEqual(['NodeCameOnline']);
    nowMs += SILENT_AFTER_MS + 1; // The heartbeats stop.
    expect((await both()).map(({ event }) => event)).toEqual(['NodeWentSilent']);
    expect(await both()).toEqual([]);

    await eventuallyTrue(
      () => alerts.some((alert) => alert.subject === 'ledger.audit.node_silent'),
      {
        ...WAIT,
        what: 'the node_silent alert',
      },
    );
    const alert = alerts.find((message) => message.subject === 'ledger.audit.node_silent');
    expect(alert?.payload as AuditRecord).toMatchObject({
      kind: 'node_silent',
      actor: 'tokyo-1',
      detail: {
        stream: 'nodestatus-tokyo-1',
        type: 'NodeWentSilent',
        silentAfterMs: SILENT_AFTER_MS,
      },
    });

    await two.presence.heartbeat('tokyo-1', { onlineUserCount: 7, loadPercent: 3, version: '1' });
    await eventuallyTrue(async () => (await one.presence.view('tokyo-1')).onlineUserCount === 7, {
      ...WAIT,
      what: 'the first instance sees the heartbeat taken by the second',
    });
    expect((await both()).map(({ event }) => event)).toEqual(['NodeCameBack']);
    const stored = await rig.store.readStream('nodestatus-tokyo-1', {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 10,
    });
    expect(stored.map((event) => event.type)).toEqual([
      'NodeCameOnline',
      'NodeWentSilent',
      'NodeCameBack',
    ]);
    // A marker after the alert: once it arrives, a second node_silent would have too.
    rig.messaging.securityAudit.report('admin_action', 'admin', { action: 'marker' });
    await eventuallyTrue(
      () => alerts.some((alert) => alert.subject === 'ledger.audit.admin_action'),
      {
        ...WAIT,
        what: 'the marker',
      },
    );
    expect(alerts.filter((message) => message.subject === 'ledger.audit.node_silent')).toHaveLength(
      1,
    );
    expect(changes).toHaveLength(3);
  } finally {
    await one.store.close();
    await two.store.close();
    await otherRuntime.close();
  }
});
