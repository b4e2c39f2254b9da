import type { Aggregate } from '../aggregate';
import { assert } from '../assert';
import { accept, type Decision } from '../decision';
import { nodeStatusEventCodec } from './node-status.events';
import type {
  NodeStatus,
  NodeStatusEvent,
  NodeStatusState,
  ObserveNode,
} from './node-status.model';

export * from './node-status.model';

const decide = (command: ObserveNode, state: NodeStatusState): Decision<NodeStatusEvent, never> => {
  const { nodeId, observed, lastHeartbeatAt, silentAfterMs, now } = command.data;
  if (observed === 'silent') {
    // A node never seen online has nothing to go silent from: it stays unknown.
    if (state.status !== 'online') return accept();
    const data = { nodeId, lastHeartbeatAt, silentAfterMs, observedAt: now };
    return accept({ type: 'NodeWentSilent', data });
  }
  assert(lastHeartbeatAt !== null, 'ObserveNode: online without a heartbeat');
  const data = { nodeId, heartbeatAt: lastHeartbeatAt, observedAt: now };
  if (state.status === 'unknown') return accept({ type: 'NodeCameOnline', data });
  if (state.status === 'silent') return accept({ type: 'NodeCameBack', data });
  return accept();
};

/** Pairs with decide: each change comes only from the status decide records it from. */
const evolve = (state: NodeStatusState, event: NodeStatusEvent): NodeStatusState => {
  switch (event.type) {
    case 'NodeCameOnline':
      assert(
        state.status === 'unknown',
        `NodeCameOnline: ${event.data.nodeId} was ${state.status}`,
      );
      return {
        status: 'online',
        lastHeartbeatAt: event.data.heartbeatAt,
        changedAt: event.data.observedAt,
      };
    case 'NodeWentSilent':
      assert(state.status === 'online', `NodeWentSilent: ${event.data.nodeId} was ${state.status}`);
      return {
        status: 'silent',
        lastHeartbeatAt: event.data.lastHeartbeatAt ?? state.lastHeartbeatAt,
        changedAt: event.data.observedAt,
      };
    case 'NodeCameBack':
      assert(state.status === 'silent', `NodeCameBack: ${event.data.nodeId} was ${state.status}`);
      return {
        status: 'online',
        lastHeartbeatAt: event.data.heartbeatAt,
        changedAt: event.data.observedAt,
      };
  }
};

export const nodeStatusAggregate: Aggregate<ObserveNode, NodeStatusEvent, NodeStatusState, never> =
  {
    category: 'nodestatus',
    initialState: { status: 'unknown', lastHeartbeatAt: null, changedAt: null },
    decide,
    evolve,
    eventCodec: nodeStatusEventCodec,
  };

/**
 * What the presence store shows now: online while the latest heartbeat is at most silentAfterMs
 * old; silent past it, or when none came within silentAfterMs of this instance's start; null
 * (not known yet) during that first window, when the recorded status stands.
 */
export const observedStatusOf = (input: {
  heartbeatAtMs: number | null;
  startedMs: number;
  nowMs: number;
  silentAfterMs: number;
}): 'online' | 'silent' | null => {
  const { heartbeatAtMs, startedMs, nowMs, silentAfterMs } = input;
  if (heartbeatAtMs !== null && nowMs - heartbeatAtMs <= silentAfterMs) return 'online';
  if (heartbeatAtMs === null && nowMs - startedMs <= silentAfterMs) return null;
  return 'silent';
};

/** The status shown: what is observed, the recorded one until something is; never seen: unknown. */
export const shownStatusOf = (
  recorded: NodeStatus,
  observed: 'online' | 'silent' | null,
): NodeStatus => {
  if (observed === null) return recorded;
  if (observed === 'silent' && recorded === 'unknown') return 'unknown';
  return observed;
};
