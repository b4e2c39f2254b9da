import { assert } from '../assert';

/**
 * Heartbeats and online counts are frequent and short-lived: they stay in memory here, never in
 * the event log. After a restart every node is `unknown` until its next heartbeat. This module is
 * the one owner of the silence deadline: sweep() (called on a timer by the composition root, or
 * by a test with its own clock) turns a node silent once its last heartbeat, or for a node not
 * heard from since the start, the start itself, is older than silentAfterMs, and reports each
 * change once.
 */
export type NodeStatus = 'unknown' | 'online' | 'silent';

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

export type PresenceChange = Readonly<{
  nodeId: string;
  from: NodeStatus;
  to: 'online' | 'silent';
  /** null: not heard from since this process started. */
  lastHeartbeatAt: string | null;
}>;

type Entry =
  | (Heartbeat & { lastHeartbeatMs: number; status: 'online' | 'silent'; count: number })
  | { lastHeartbeatMs: null; status: 'silent'; count: 0 };

export type NodePresence = {
  /** Records a heartbeat of a registered node; a silent or unknown node comes online. */
  heartbeat(nodeId: string, heartbeat: Heartbeat): NodePresenceView;
  /**
   * Marks silent every registered node (nodeIds) whose last heartbeat, or the start when there
   * was none, is older than silentAfterMs.
   */
  sweep(nodeIds: Iterable<string>): readonly PresenceChange[];
  view(nodeId: string): NodePresenceView;
  /** Forgets a retired node. */
  forget(nodeId: string): void;
};

const UNKNOWN: NodePresenceView = {
  status: 'unknown',
  lastHeartbeatAt: null,
  onlineUserCount: null,
  loadPercent: null,
  version: null,
  heartbeatCount: 0,
};

export const createNodePresence = (options: {
  nowMs: () => number;
  silentAfterMs: number;
  onChange: (change: PresenceChange) => void;
}): NodePresence => {
  const { nowMs, silentAfterMs, onChange } = options;
  assert(Number.isSafeInteger(silentAfterMs) && silentAfterMs > 0, 'silentAfterMs must be > 0');
  const startedMs = nowMs();
  const entries = new Map<string, Entry>();
  const instantOf = (ms: number | null): string | null =>
    ms === null ? null : new Date(ms).toISOString();
  const viewOf = (entry: Entry): NodePresenceView =>
    entry.lastHeartbeatMs === null
      ? { ...UNKNOWN, status: 'silent' }
      : {
          status: entry.status,
          lastHeartbeatAt: instantOf(entry.lastHeartbeatMs),
          onlineUserCount: entry.onlineUserCount,
          loadPercent: entry.loadPercent,
          version: entry.version,
          heartbeatCount: entry.count,
        };
  return {
    heartbeat: (nodeId, heartbeat) => {
      const previous = entries.get(nodeId);
      // Concurrent heartbeats land in any order; the last one received is the node's state, and
      // the time of the last heartbeat never goes back.
      const lastHeartbeatMs = Math.max(nowMs(), previous?.lastHeartbeatMs ?? 0);
      const entry: Entry = {
        ...heartbeat,
        lastHeartbeatMs,
        status: 'online',
        count: (previous?.count ?? 0) + 1,
      };
      entries.set(nodeId, entry);
      if (previous?.status !== 'online') {
        const from = previous?.status ?? 'unknown';
        onChange({ nodeId, from, to: 'online', lastHeartbeatAt: instantOf(lastHeartbeatMs) });
      }
      return viewOf(entry);
    },
    sweep: (nodeIds) => {
      const deadlineMs = nowMs() - silentAfterMs;
      const changes: PresenceChange[] = [];
      for (const nodeId of nodeIds) {
        const entry = entries.get(nodeId);
        if (entry === undefined) {
          if (startedMs >= deadlineMs) continue;
          entries.set(nodeId, { lastHeartbeatMs: null, status: 'silent', count: 0 });
          changes.push({ nodeId, from: 'unknown', to: 'silent', lastHeartbeatAt: null });
          continue;
        }
        if (entry.status !== 'online' || entry.lastHeartbeatMs >= deadlineMs) continue;
        entries.set(nodeId, { ...entry, status: 'silent' });
        const lastHeartbeatAt = instantOf(entry.lastHeartbeatMs);
        changes.push({ nodeId, from: 'online', to: 'silent', lastHeartbeatAt });
      }
      changes.forEach(onChange);
      return changes;
    },
    view: (nodeId) => {
      const entry = entries.get(nodeId);
      return entry === undefined ? UNKNOWN : viewOf(entry);
    },
    forget: (nodeId) => {
      entries.delete(nodeId);
    },
  };
};
