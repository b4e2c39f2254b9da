import type { EventCodec, StoredEvent } from '../aggregate';
import { AssertionError } from '../assert';
import { assertVersionOne, countField, stringField } from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';
import type { NodeStatusEvent } from './node-status.model';

const nullableString = (data: JsonObject, name: string): string | null =>
  data[name] === null ? null : stringField(data, name);

/** Every field checked: what a node's status folds is what the union says. */
const parse = ({ type, data, metadata }: StoredEvent): NodeStatusEvent => {
  assertVersionOne(type, metadata.schemaVersion);
  const nodeId = stringField(data, 'nodeId');
  const observedAt = stringField(data, 'observedAt');
  switch (type) {
    case 'NodeCameOnline':
    case 'NodeCameBack':
      return { type, data: { nodeId, heartbeatAt: stringField(data, 'heartbeatAt'), observedAt } };
    case 'NodeWentSilent':
      return {
        type,
        data: {
          nodeId,
          lastHeartbeatAt: nullableString(data, 'lastHeartbeatAt'),
          silentAfterMs: countField(data, 'silentAfterMs'),
          observedAt,
        },
      };
    default:
      throw new AssertionError(`nodestatus: unknown event type ${type}`);
  }
};

export const nodeStatusEventCodec: EventCodec<NodeStatusEvent> = {
  schemaVersion: 1,
  encode: (event) => ({ ...event.data }),
  parse,
};
