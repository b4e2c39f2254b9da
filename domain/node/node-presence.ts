import { v7 as uuidv7 } from 'uuid';
import type { ActorRuntime } from '../actors/actor-runtime';
import { assert } from '../assert';
import type { NodePresenceStore } from '../ports/node-presence-store.port';
import {
  nodeStatusAggregate,
  observedStatusOf,
  shownStatusOf,
  type NodeStatus,
  type NodeStatusEvent,
  type NodeStatusState,
  type ObserveNode,
} from './node-status.decider';

/**
 * Heartbeats and online counts go to the presence store (memory, or a NATS key-value bucket that
 * several instances share), never to the event log. This module is the one owner of the silence
 * deadline: sweep() (on a timer from the composition root, or by a test with its own clock)
 * compares what the store shows with each node's recorded status and records a change, once,
 * through the node's status stream (node-status.decider.ts decides it). After a restart the
 * recorded statuses are folded from the log again; no heartbeat is ever read back from it.
 */
export type Heartbeat = Readonly<{
  onlineUserCount: number;
  /** 0-100, the node's own estimate of its load. */
  loadPercent: number;
  /** The node software's version, as the node reports it. */
  version: string;
}>;

export type NodePresenceView = Readonly<{
  status: NodeStatus;
  lastHeartbeatAt: string | null;
  onlineUserCount: number | null;
  loadPercent: number | null;
  version: string | null;
  heartbeatCount: number;
}>;

/** A change this instance recorded (another instance that recorded it first reports it there). */
export type PresenceChange = Readonly<{
  nodeId: string;
  event: NodeStatusEvent['type'];
  to: 'online' | 'silent';
  lastHeartbeatAt: string | null;
}>;

export type NodePresence = {
  /** Stores a heartbeat of a registered node; the change it makes is recorded by sweep(). */
  heartbeat(nodeId: string, heartbeat: Heartbeat): Promise<NodePresenceView>;
  /** Observes every live node (nodeIds) and records each status change, once. */
  sweep(nodeIds: Iterable<string>): Promise<readonly PresenceChange[]>;
  view(nodeId: string): Promise<NodePresenceView>;
  /** Forgets a retired node's heartbeat. */
  forget(nodeId: string): Promise<void>;
};

export const createNodePresence = (options: {
  store: NodePresenceStore;
  runtime: ActorRuntime;
  nowMs: () => number;
  silentAfterMs: number;
  onChange: (change: PresenceChange) => void;
}): NodePresence => {
  const { store, runtime, nowMs, silentAfterMs, onChange } = options;
  assert(Number.isSafeInteger(silentAfterMs) && silentAfterMs > 0, 'silentAfterMs must be > 0');
  const startedMs = nowMs();
  /** Each node's recorded status, folded once from its stream, then kept from each outcome. */
  const recorded = new Map<string, Promise<NodeStatusState>>();
  const recordedOf = (nodeId: string): Promise<NodeStatusState> => {
    const known = recorded.get(nodeId);
    if (known !== undefined) return known;
    const loading = runtime.read(nodeStatusAggregate, nodeId).then(({ state }) => state);
    recorded.set(nodeId, loading);
    loading.catch(() => recorded.delete(nodeId));
    return loading;
  };
  const instantOf = (ms: number): string => new Date(ms).toISOString();
  const observe = (nodeId: string, now: number) => {
    const record = store.get(nodeId);
    const heartbeatAtMs = record?.heartbeatAtMs ?? null;
    const observed = observedStatusOf({ heartbeatAtMs, startedMs, nowMs: now, silentAfterMs });
    return {
      record,
      observed,
      lastHeartbeatAt: heartbeatAtMs === null ? null : instantOf(heartbeatAtMs),
    };
  };

  const view = async (nodeId: string): Promise<NodePresenceView> => {
    const { record, observed, lastHeartbeatAt } = observe(nodeId, nowMs());
    const state = await recordedOf(nodeId);
    return {
      status: shownStatusOf(state.status, observed),
      lastHeartbeatAt: lastHeartbeatAt ?? state.lastHeartbeatAt,
      onlineUserCount: record?.onlineUserCount ?? null,
      loadPercent: record?.loadPercent ?? null,
      version: record?.version ?? null,
      heartbeatCount: record?.heartbeatCount ?? 0,
    };
  };

  /** Records the node's change if decide finds one against the recorded status. */
  const observeOne = async (nodeId: string, now: number): Promise<PresenceChange | null> => {
    const { observed, lastHeartbeatAt } = observe(nodeId, now);
    if (observed === null) return null;
    const command: ObserveNode = {
      type: 'ObserveNode',
      data: { nodeId, observed, lastHeartbeatAt, silentAfterMs, now: instantOf(now) },
    };
    const decision = nodeStatusAggregate.decide(command, await recordedOf(nodeId));
    if (!decision.ok || decision.events.length === 0) return null;
    const context = {
      correlationId: uuidv7(),
      causationId: null,
      actor: { clientId: 'system:node-presence', role: 'system', ip: null },
      idempotencyKey: null,
      now: command.data.now,
      eventIdSeed: null,
    };
    const outcome = await runtime.execute(nodeStatusAggregate, nodeId, command, context);
    recorded.set(nodeId, Promise.resolve(outcome.state));
    if (!outcome.ok || outcome.eventCount === 0) return null; // Another instance recorded it.
    const [event] = decision.events;
    assert(event !== undefined, 'a decided change has its event');
    return { nodeId, event: event.type, to: observed, lastHeartbeatAt };
  };

  let sweeping: Promise<readonly PresenceChange[]> | null = null;
  const sweepAll = async (nodeIds: Iterable<string>): Promise<readonly PresenceChange[]> => {
    const now = nowMs();
    const changes: PresenceChange[] = [];
    for (const nodeId of nodeIds) {
      const change = await observeOne(nodeId, now);
      if (change !== null) changes.push(change);
    }
    changes.forEach(onChange);
    return changes;
  };

  return {
    heartbeat: async (nodeId, heartbeat) => {
      const previous = store.get(nodeId);
      // Concurrent heartbeats land in any order; the time of the last one never goes back.
      const heartbeatAtMs = Math.max(nowMs(), previous?.heartbeatAtMs ?? 0);
      const heartbeatCount = (previous?.heartbeatCount ?? 0) + 1;
      await store.put({ nodeId, heartbeatAtMs, heartbeatCount, ...heartbeat });
      return view(nodeId);
    },
    // One sweep at a time: a slow one (a store outage) is joined, never doubled.
    sweep: (nodeIds) => {
      sweeping ??= sweepAll(nodeIds).finally(() => (sweeping = null));
      return sweeping;
    },
    view,
    forget: async (nodeId) => {
      await store.delete(nodeId);
    },
  };
};
