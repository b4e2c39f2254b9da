import { AssertionError } from '../../../domain/assert';
import {
  nodeStatusAggregate,
  observedStatusOf,
  shownStatusOf,
  type NodeStatusEvent,
  type ObserveNode,
} from '../../../domain/node/node-status.decider';
import { nodeStatusEventCodec } from '../../../domain/node/node-status.events';
import { deciderSpec } from '../../support/decider-spec';

const given = deciderSpec(nodeStatusAggregate);
const beat = '2026-03-01T00:00:00.000Z';
const now = '2026-03-01T00:01:00.000Z';
const observe = (
  observed: 'online' | 'silent',
  lastHeartbeatAt: string | null = beat,
): ObserveNode => ({
  type: 'ObserveNode',
  data: { nodeId: 'n1', observed, lastHeartbeatAt, silentAfterMs: 30_000, now },
});
const cameOnline: NodeStatusEvent = {
  type: 'NodeCameOnline',
  data: { nodeId: 'n1', heartbeatAt: beat, observedAt: now },
};
const wentSilent: NodeStatusEvent = {
  type: 'NodeWentSilent',
  data: { nodeId: 'n1', lastHeartbeatAt: beat, silentAfterMs: 30_000, observedAt: now },
};
const cameBack: NodeStatusEvent = {
  type: 'NodeCameBack',
  data: { nodeId: 'n1', heartbeatAt: beat, observedAt: now },
};

describe('node status decider', () => {
  it('records the first heartbeat as NodeCameOnline, and nothing while it stays online', () => {
    given([]).when(observe('online')).then([cameOnline]);
    given([cameOnline]).when(observe('online')).then([]);
  });

  it('records silence only for a node that was online, once', () => {
    given([cameOnline]).when(observe('silent')).then([wentSilent]);
    given([cameOnline, wentSilent]).when(observe('silent')).then([]);
    given([]).when(observe('silent', null)).then([]); // Never online: stays unknown.
  });

  it('records a heartbeat after silence as NodeCameBack', () => {
    given([cameOnline, wentSilent]).when(observe('online')).then([cameBack]);
    given([cameOnline, wentSilent, cameBack]).when(observe('silent')).then([wentSilent]);
  });

  it('refuses to replay a change from the wrong status', () => {
    const fold = (events: NodeStatusEvent[]) =>
      events.reduce(nodeStatusAggregate.evolve, nodeStatusAggregate.initialState);
    expect(() => fold([wentSilent])).toThrow(AssertionError);
    expect(() => fold([cameOnline, cameBack])).toThrow(AssertionError);
    expect(() => fold([cameOnline, cameOnline])).toThrow(AssertionError);
    expect(fold([cameOnline, wentSilent])).toEqual({
      status: 'silent',
      lastHeartbeatAt: beat,
      changedAt: now,
    });
  });

  it('reads its events back through the codec, naming a damaged field', () => {
    for (const event of [cameOnline, wentSilent, cameBack]) {
      const stored = {
        type: event.type,
        data: nodeStatusEventCodec.encode(event),
        metadata: { schemaVersion: 1 },
      };
      expect(nodeStatusEventCodec.parse(stored)).toEqual(event);
    }
    const damaged = {
      type: 'NodeWentSilent',
      data: { ...wentSilent.data, silentAfterMs: -1 },
      metadata: { schemaVersion: 1 },
    };
    expect(() => nodeStatusEventCodec.parse(damaged)).toThrow(/silentAfterMs/);
    const unknown = {
      type: 'NodeExploded',
      data: { nodeId: 'n1', observedAt: now },
      metadata: { schemaVersion: 1 },
    };
    expect(() => nodeStatusEventCodec.parse(unknown)).toThrow(AssertionError);
  });
});

describe('observed and shown status', () => {
  const at = { startedMs: 0, silentAfterMs: 1000 };
  it('is online up to the timeout, silent one ms past it', () => {
    expect(observedStatusOf({ ...at, heartbeatAtMs: 5000, nowMs: 6000 })).toBe('online');
    expect(observedStatusOf({ ...at, heartbeatAtMs: 5000, nowMs: 6001 })).toBe('silent');
  });

  it('without a heartbeat: not known during the first timeout after the start, then silent', () => {
    expect(observedStatusOf({ ...at, heartbeatAtMs: null, nowMs: 1000 })).toBeNull();
    expect(observedStatusOf({ ...at, heartbeatAtMs: null, nowMs: 1001 })).toBe('silent');
  });

  it('shows the recorded status until something is observed; a node never online stays unknown', () => {
    expect(shownStatusOf('online', null)).toBe('online');
    expect(shownStatusOf('silent', 'online')).toBe('online');
    expect(shownStatusOf('online', 'silent')).toBe('silent');
    expect(shownStatusOf('unknown', 'silent')).toBe('unknown');
  });
});
