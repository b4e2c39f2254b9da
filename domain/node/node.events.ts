import type { EventCodec, StoredEvent } from '../aggregate';
import { assert, AssertionError } from '../assert';
import { assertVersionOne, countField, stringField } from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';
import { isUserLevel, type NodeConfig, type NodeEvent } from './node.model';

const configOf = (data: JsonObject): NodeConfig => {
  const levelMin = countField(data, 'levelMin');
  assert(isUserLevel(levelMin), 'levelMin: not a user level');
  return {
    name: stringField(data, 'name'),
    group: stringField(data, 'group'),
    levelMin,
    address: stringField(data, 'address'),
    region: stringField(data, 'region'),
    clientId: stringField(data, 'clientId'),
  };
};

/** Every field checked: what the registry folds is what the union says. */
const parse = ({ type, data, metadata }: StoredEvent): NodeEvent => {
  assertVersionOne(type, metadata.schemaVersion);
  const nodeId = stringField(data, 'nodeId');
  switch (type) {
    case 'NodeRegistered':
      return {
        type,
        data: { nodeId, ...configOf(data), registeredAt: stringField(data, 'registeredAt') },
      };
    case 'NodeUpdated':
      return {
        type,
        data: { nodeId, ...configOf(data), updatedAt: stringField(data, 'updatedAt') },
      };
    case 'NodeRetired':
      return { type, data: { nodeId, retiredAt: stringField(data, 'retiredAt') } };
    default:
      throw new AssertionError(`noderegistry: unknown event type ${type}`);
  }
};

export const nodeEventCodec: EventCodec<NodeEvent> = {
  schemaVersion: 1,
  encode: (event) => ({ ...event.data }),
  parse,
};
