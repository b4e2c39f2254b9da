import type { ActorRuntime } from '../../domain/actors/actor-runtime';
import type { NodePresence, NodePresenceView } from '../../domain/node/node-presence';
import {
  NODE_REGISTRY_ID,
  nodeRegistryAggregate,
  type NodeRecord,
  type NodeRegistryState,
} from '../../domain/node/node.decider';
import type { TrafficWriter } from '../../domain/traffic/traffic-writer';
import type { AuthenticatedClient } from '../middleware/api-state';

/** What the node routes need; built by the composition root. */
export type NodeServices = {
  runtime: ActorRuntime;
  /** The single writer of the traffic shards: a node's user list is read from its state. */
  traffic: Pick<TrafficWriter, 'shard'>;
  presence: NodePresence;
  nowMs: () => number;
};

type RegistryRead = Promise<{
  state: NodeRegistryState;
  revision: number | null;
  position: bigint | null;
}>;
/**
 * How long a read of the registry serves: heartbeats and user lists read it on every request,
 * and once its actor is evicted (or after a restart, before any registry command) a read folds
 * the whole stream. Commands taken here drop the cached read at once; another instance's
 * commands are seen at most this late.
 */
const REGISTRY_READ_MAX_AGE_MS = 1000;
const registryReads = new WeakMap<NodeServices, { readAtMs: number; read: RegistryRead }>();

/** The registry as committed (from the live actor, else loaded from its stream), cached briefly. */
export const nodeRegistryOf = (services: NodeServices): RegistryRead => {
  const nowMs = services.nowMs();
  const cached = registryReads.get(services);
  if (cached !== undefined && nowMs - cached.readAtMs < REGISTRY_READ_MAX_AGE_MS)
    return cached.read;
  const read = services.runtime.read(nodeRegistryAggregate, NODE_REGISTRY_ID);
  registryReads.set(services, { readAtMs: nowMs, read });
  read.catch(() => registryReads.delete(services));
  return read;
};

/** After a registry command: the next read sees it. */
export const forgetRegistryRead = (services: NodeServices): void => {
  registryReads.delete(services);
};

/**
 * The node a client may see: admins and auditors see every node, a node's client sees its own
 * node only. Anyone else gets null, answered as 404 so that nodes cannot probe each other's ids.
 */
export const visibleNode = (
  nodes: { get(nodeId: string): NodeRecord | undefined },
  nodeId: string,
  client: AuthenticatedClient,
): NodeRecord | null => {
  const node = nodes.get(nodeId);
  if (node === undefined) return null;
  if (client.role === 'admin' || client.role === 'auditor') return node;
  return client.role === 'node' && node.clientId === client.clientId ? node : null;
};

/** GET /v1/nodes and /v1/nodes/{nodeId}: the configuration with the in-memory presence. */
export const nodeView = (
  node: NodeRecord,
  presence: NodePresenceView,
): NodeRecord & NodePresenceView & { enabled: boolean } => ({
  ...node,
  enabled: node.retiredAt === null,
  ...presence,
});
