/**
 * A node's recorded status, on its own stream `nodestatus-<nodeId>`: an event only when the
 * status changes (first heartbeat, silence past the timeout, a heartbeat after silence), never
 * per heartbeat. Several instances observing the same change append at the same expected
 * revision: one append wins, the others reload, decide again, and find nothing to record.
 */
export type NodeStatus = 'unknown' | 'online' | 'silent';

export type NodeStatusState = Readonly<{
  status: NodeStatus;
  /** The heartbeat the latest recorded change saw (null: silent with none since a start). */
  lastHeartbeatAt: string | null;
  changedAt: string | null;
}>;

/** What an instance sees now from the presence store; `decide` records the change, if any. */
export type ObserveNode = {
  type: 'ObserveNode';
  data: {
    nodeId: string;
    observed: 'online' | 'silent';
    /** The latest heartbeat known (required when online); null: none since this start. */
    lastHeartbeatAt: string | null;
    silentAfterMs: number;
    now: string;
  };
};

export type NodeCameOnline = { nodeId: string; heartbeatAt: string; observedAt: string };
export type NodeWentSilent = {
  nodeId: string;
  lastHeartbeatAt: string | null;
  silentAfterMs: number;
  observedAt: string;
};
export type NodeCameBack = { nodeId: string; heartbeatAt: string; observedAt: string };

export type NodeStatusEvent =
  | { type: 'NodeCameOnline'; data: NodeCameOnline }
  | { type: 'NodeWentSilent'; data: NodeWentSilent }
  | { type: 'NodeCameBack'; data: NodeCameBack };
