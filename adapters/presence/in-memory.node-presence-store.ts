import type { NodePresenceStore } from '../../domain/ports/node-presence-store.port';
import { createHeartbeatCache } from './heartbeat-cache';

/** Heartbeats in this process only: what one instance without NATS_URL uses. */
export const createInMemoryNodePresenceStore = (options: {
  ttlMs: number;
  nowMs: () => number;
}): NodePresenceStore => {
  const cache = createHeartbeatCache(options);
  return {
    put: (record) => {
      cache.apply(record);
      return Promise.resolve();
    },
    get: (nodeId) => cache.get(nodeId),
    delete: (nodeId) => {
      cache.remove(nodeId);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
};
