import { Map as ImmutableMap } from 'immutable';
import type { Aggregate } from '../aggregate';
import { assert } from '../assert';
import { accept, reject } from '../decision';
import { nodeEventCodec } from './node.events';
import {
  isUserLevel,
  type NodeCommand,
  type NodeConfig,
  type NodeDecision,
  type NodeEvent,
  type NodeRecord,
  type NodeRegistryState,
  type NodeRejection,
} from './node.model';

export * from './node.model';

const configFields: readonly (keyof NodeConfig)[] = [
  'name',
  'group',
  'levelMin',
  'address',
  'region',
  'clientId',
];

/** The first field in which two configurations differ, or null when they are the same. */
const differingField = (left: NodeConfig, right: NodeConfig): string | null =>
  configFields.find((field) => left[field] !== right[field]) ?? null;

const configOf = (record: NodeRecord): NodeConfig => {
  const { name, group, levelMin, address, region, clientId } = record;
  return { name, group, levelMin, address, region, clientId };
};

/** The live node (not retired) bound to clientId other than nodeId, if any. */
const holderOf = (state: NodeRegistryState, clientId: string, nodeId: string): string | null =>
  state.nodes.find(
    (node) => node.clientId === clientId && node.nodeId !== nodeId && node.retiredAt === null,
  )?.nodeId ?? null;

const decideNode = (command: NodeCommand, state: NodeRegistryState): NodeDecision => {
  const { nodeId, now } = command.data;
  const existing = state.nodes.get(nodeId);
  switch (command.type) {
    case 'RegisterNode': {
      const { config } = command.data;
      assert(isUserLevel(config.levelMin), 'RegisterNode: levelMin out of range'); // ajv checked.
      if (existing !== undefined) {
        // A retried registration answers as the first did; other terms are another node.
        const field = differingField(configOf(existing), config);
        return field === null ? accept() : reject('node_exists', { field });
      }
      const holder = holderOf(state, config.clientId, nodeId);
      if (holder !== null) return reject('node_client_taken', { nodeId: holder });
      return accept({ type: 'NodeRegistered', data: { nodeId, ...config, registeredAt: now } });
    }
    case 'UpdateNode': {
      const { config } = command.data;
      assert(isUserLevel(config.levelMin), 'UpdateNode: levelMin out of range');
      if (existing === undefined) return reject('node_not_found');
      if (existing.retiredAt !== null) return reject('node_retired');
      if (differingField(configOf(existing), config) === null) return accept();
      const holder = holderOf(state, config.clientId, nodeId);
      if (holder !== null) return reject('node_client_taken', { nodeId: holder });
      return accept({ type: 'NodeUpdated', data: { nodeId, ...config, updatedAt: now } });
    }
    case 'RetireNode':
      if (existing === undefined) return reject('node_not_found');
      if (existing.retiredAt !== null) return accept();
      return accept({ type: 'NodeRetired', data: { nodeId, retiredAt: now } });
  }
};

/** Every assert pairs with a check in decide, so replay refuses a stream decide never wrote. */
const evolveNode = (state: NodeRegistryState, event: NodeEvent): NodeRegistryState => {
  const { nodeId } = event.data;
  const existing = state.nodes.get(nodeId);
  switch (event.type) {
    case 'NodeRegistered': {
      assert(existing === undefined, `NodeRegistered: ${nodeId} twice`);
      const { registeredAt } = event.data;
      const record: NodeRecord = { ...event.data, updatedAt: registeredAt, retiredAt: null };
      return { nodes: state.nodes.set(nodeId, record) };
    }
    case 'NodeUpdated': {
      assert(existing !== undefined && existing.retiredAt === null, `NodeUpdated: ${nodeId}`);
      return { nodes: state.nodes.set(nodeId, { ...existing, ...event.data }) };
    }
    case 'NodeRetired': {
      assert(existing !== undefined && existing.retiredAt === null, `NodeRetired: ${nodeId}`);
      const retired = { ...existing, retiredAt: event.data.retiredAt };
      return { nodes: state.nodes.set(nodeId, { ...retired, updatedAt: event.data.retiredAt }) };
    }
  }
};

export const nodeRegistryAggregate: Aggregate<
  NodeCommand,
  NodeEvent,
  NodeRegistryState,
  NodeRejection
> = {
  category: 'noderegistry',
  initialState: { nodes: ImmutableMap() },
  decide: decideNode,
  evolve: evolveNode,
  eventCodec: nodeEventCodec,
};
