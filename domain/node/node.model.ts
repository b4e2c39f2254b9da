import type { Map as ImmutableMap } from 'immutable';
import type { Decision } from '../decision';

/**
 * Nodes live in ONE registry stream `noderegistry-main`: a fleet is tens to a few thousand nodes
 * whose configuration changes rarely, and one decider sees them all, so that a node client is
 * bound to at most one node (a rule across nodes) and the list is one read.
 */
export const NODE_REGISTRY_ID = 'main';

/** A user level (SSPanel's "class"): 0 is what an expired or plan-less user has. */
export const USER_LEVEL_MAX = 255;

/** What an admin configures; the node's own client reads it. */
export type NodeConfig = Readonly<{
  name: string;
  /** Users of another group are never on this node's list. */
  group: string;
  /** Users below this level are never on this node's list. */
  levelMin: number;
  /** Where clients connect (host:port or a URL); informative, never dialled by the service. */
  address: string;
  region: string;
  /** The API client (role node) that speaks for this node: its key is the node's credential. */
  clientId: string;
}>;

export type NodeRecord = NodeConfig &
  Readonly<{ nodeId: string; registeredAt: string; updatedAt: string; retiredAt: string | null }>;

export type NodeRegistryState = Readonly<{ nodes: ImmutableMap<string, NodeRecord> }>;

export type NodeCommand =
  | { type: 'RegisterNode'; data: { nodeId: string; config: NodeConfig; now: string } }
  | { type: 'UpdateNode'; data: { nodeId: string; config: NodeConfig; now: string } }
  | { type: 'RetireNode'; data: { nodeId: string; now: string } };

export type NodeRegistered = NodeConfig & { nodeId: string; registeredAt: string };
export type NodeUpdated = NodeConfig & { nodeId: string; updatedAt: string };
export type NodeRetired = { nodeId: string; retiredAt: string };

export type NodeEvent =
  | { type: 'NodeRegistered'; data: NodeRegistered }
  | { type: 'NodeUpdated'; data: NodeUpdated }
  | { type: 'NodeRetired'; data: NodeRetired };

export const nodeRejections = [
  'node_exists',
  'node_not_found',
  'node_retired',
  'node_client_taken',
] as const;
export type NodeRejection = (typeof nodeRejections)[number];
export type NodeDecision = Decision<NodeEvent, NodeRejection>;

export const isUserLevel = (level: number): boolean =>
  Number.isSafeInteger(level) && level >= 0 && level <= USER_LEVEL_MAX;
