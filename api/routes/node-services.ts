import type { ActorRuntime } from '../../domain/actors/actor-runtime';
import type { NodePresence, NodePresenceView } from '../../domain/node/node-presence';
import {
  NODE_REGISTRY_ID,
  nodeRegistryAggregate,
  type NodeRecord,
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

/** The registry as committed (from the live actor, else loaded from its stream). */
export const nodeRegistryOf = async (services: NodeServices) =>
  services.runtime.read(nodeRegistryAggregate, NODE_REGISTRY_ID);

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
