import { StorageType, connect, type KV, type KvEntry, type NatsConnection } from 'nats';
import { assert } from '../../domain/assert';
import { UnavailableError } from '../../domain/ports/event-store.port';
import type {
  NodeHeartbeatRecord,
  NodePresenceStore,
} from '../../domain/ports/node-presence-store.port';
import { createHeartbeatCache } from './heartbeat-cache';

type NatsPresenceOptions = {
  servers: string;
  /** The key-value bucket (JetStream stream KV_<bucket>), one key per node id. */
  bucket: string;
  /** The bucket's TTL: the server drops a node's key this long after its last heartbeat. */
  ttlMs: number;
  /** Pause before watching again after the watch ended (server restarted). */
  retryPauseMs: number;
  nowMs: () => number;
  onWarning: (what: string, fields: Record<string, unknown>) => void;
};

const encoder = new TextEncoder();

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** A bucket value as this adapter writes it, or null (another writer's, damaged). */
const recordOf = (entry: KvEntry): NodeHeartbeatRecord | null => {
  try {
    const value = entry.json<Record<string, unknown>>();
    const { heartbeatAtMs, onlineUserCount, loadPercent, version, heartbeatCount } = value;
    if (!isCount(heartbeatAtMs) || !isCount(onlineUserCount) || !isCount(heartbeatCount))
      return null;
    if (typeof loadPercent !== 'number' || typeof version !== 'string') return null;
    return {
      nodeId: entry.key,
      heartbeatAtMs,
      onlineUserCount,
      loadPercent,
      version,
      heartbeatCount,
    };
  } catch {
    return null;
  }
};

/**
 * Heartbeats in a NATS JetStream key-value bucket (memory storage: heartbeats are short-lived,
 * a lost bucket costs one heartbeat interval) with a TTL, so every instance sees every node. Each
 * instance watches the bucket and keeps the latest record per node in memory: reads are local,
 * a put is one round trip. A bucket lost with the server is created again on the next put.
 */
export const createNatsNodePresenceStore = async (
  options: NatsPresenceOptions,
): Promise<NodePresenceStore> => {
  assert(options.ttlMs >= 1000, 'the bucket TTL must be at least 1 s');
  const connection: NatsConnection = await connect({
    servers: options.servers,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.retryPauseMs,
  });
  const openBucket = (): Promise<KV> =>
    connection
      .jetstream()
      .views.kv(options.bucket, { ttl: options.ttlMs, history: 1, storage: StorageType.Memory });
  let kv = await openBucket();
  const cache = createHeartbeatCache(options);
  let closed = false;

  const apply = (entry: KvEntry): void => {
    if (entry.operation !== 'PUT') return cache.remove(entry.key);
    const record = recordOf(entry);
    if (record === null) options.onWarning('node_presence_record_ignored', { key: entry.key });
    else cache.apply(record);
  };
  const watch = async (): Promise<void> => {
    while (!closed) {
      try {
        for await (const entry of await kv.watch({ key: '>' })) apply(entry);
      } catch (error: unknown) {
        options.onWarning('node_presence_watch_failed', { error: String(error) });
      }
      if (closed) return;
      await new Promise((resolve) => setTimeout(resolve, options.retryPauseMs));
      kv = await openBucket().catch(() => kv);
    }
  };
  const watching = watch();

  /** Retries once on a bucket created again (the server lost it), then answers 503. */
  const twice = async (what: string, run: (bucket: KV) => Promise<unknown>): Promise<void> => {
    try {
      await run(kv);
    } catch (first: unknown) {
      try {
        kv = await openBucket();
        await run(kv);
      } catch (error: unknown) {
        throw new UnavailableError(`node presence ${what} failed: ${String(error)}`, {
          cause: first,
        });
      }
    }
  };

  return {
    put: async (record) => {
      // A heartbeat older than the one held is not written: the bucket keeps one value per node,
      // and an instance whose watch starts later sees only that value, which must be the newest.
      if (!cache.apply(record)) return;
      const { nodeId, ...value } = record;
      await twice('put', (bucket) => bucket.put(nodeId, encoder.encode(JSON.stringify(value))));
    },
    get: (nodeId) => cache.get(nodeId),
    delete: async (nodeId) => {
      cache.remove(nodeId);
      await twice('delete', (bucket) => bucket.delete(nodeId));
    },
    close: async () => {
      closed = true;
      await connection.drain();
      await watching;
    },
  };
};
