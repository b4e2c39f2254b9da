import type { NodeHeartbeatRecord } from '../../domain/ports/node-presence-store.port';

/**
 * The latest heartbeat per node, as both presence adapters hold it: a record replaces the held
 * one only when it is not older (concurrent heartbeats and a bucket watch deliver in any order,
 * and the time of the last heartbeat never goes back), and a record past the TTL reads as none.
 */
export const createHeartbeatCache = (options: { ttlMs: number; nowMs: () => number }) => {
  const records = new Map<string, NodeHeartbeatRecord>();
  const isNewer = (record: NodeHeartbeatRecord, held: NodeHeartbeatRecord): boolean =>
    record.heartbeatAtMs > held.heartbeatAtMs ||
    (record.heartbeatAtMs === held.heartbeatAtMs && record.heartbeatCount >= held.heartbeatCount);
  return {
    /** True when the record was taken (not older than the one held). */
    apply(record: NodeHeartbeatRecord): boolean {
      const held = records.get(record.nodeId);
      if (held !== undefined && !isNewer(record, held)) return false;
      records.set(record.nodeId, record);
      return true;
    },
    get(nodeId: string): NodeHeartbeatRecord | null {
      const held = records.get(nodeId);
      if (held === undefined) return null;
      if (options.nowMs() - held.heartbeatAtMs <= options.ttlMs) return held;
      records.delete(nodeId);
      return null;
    },
    remove(nodeId: string): void {
      records.delete(nodeId);
    },
  };
};
