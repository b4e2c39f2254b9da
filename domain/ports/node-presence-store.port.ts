/**
 * Where nodes' latest heartbeats live: never in the event log. In memory for one process, or a
 * NATS JetStream key-value bucket with a TTL that several instances share. Reads are local
 * (the NATS adapter keeps what its bucket watch delivered), so listing nodes costs no round trip.
 */
export type NodeHeartbeatRecord = Readonly<{
  nodeId: string;
  /** When the latest heartbeat was received, by the receiving instance's clock. */
  heartbeatAtMs: number;
  onlineUserCount: number;
  /** 0-100, the node's own estimate of its load. */
  loadPercent: number;
  /** The node software's version, as the node reports it. */
  version: string;
  /** Heartbeats stored for this node while its record lived (see docs/architecture.md). */
  heartbeatCount: number;
}>;

export interface NodePresenceStore {
  /**
   * Stores a node's latest heartbeat; resolves once stored where every instance sees it. A
   * record older than the one held (an earlier heartbeatAtMs) does not replace it. Throws
   * UnavailableError when the backing service cannot be reached.
   */
  put(record: NodeHeartbeatRecord): Promise<void>;
  /** The latest heartbeat known here, or null: none, or older than the store's TTL. */
  get(nodeId: string): NodeHeartbeatRecord | null;
  /** Forgets a node (retired). */
  delete(nodeId: string): Promise<void>;
  /** Stops watching and closes the connection. */
  close(): Promise<void>;
}
