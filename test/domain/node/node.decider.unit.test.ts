import { AssertionError } from '../../../domain/assert';
import {
  nodeRegistryAggregate,
  type NodeCommand,
  type NodeConfig,
  type NodeEvent,
} from '../../../domain/node/node.decider';
import { nodeEventCodec } from '../../../domain/node/node.events';
import { deciderSpec } from '../../support/decider-spec';

const given = deciderSpec(nodeRegistryAggregate);
const now = '2026-03-01T00:00:00.000Z';
const later = '2026-03-02T00:00:00.000Z';
const config: NodeConfig = {
  name: 'Tokyo 1',
  group: 'asia',
  levelMin: 2,
  address: 'tokyo-1.example:443',
  region: 'jp',
  clientId: 'node-client-1',
};
const register = (nodeId: string, terms: NodeConfig = config): NodeCommand => ({
  type: 'RegisterNode',
  data: { nodeId, config: terms, now },
});
const registered = (nodeId: string, terms: NodeConfig = config): NodeEvent => ({
  type: 'NodeRegistered',
  data: { nodeId, ...terms, registeredAt: now },
});
const update = (nodeId: string, terms: NodeConfig): NodeCommand => ({
  type: 'UpdateNode',
  data: { nodeId, config: terms, now: later },
});
const retire = (nodeId: string): NodeCommand => ({ type: 'RetireNode', data: { nodeId, now } });
const retired = (nodeId: string): NodeEvent => ({
  type: 'NodeRetired',
  data: { nodeId, retiredAt: now },
});

describe('node registry', () => {
  it('registers a node, and answers a retried registration with no new event', () => {
    given([])
      .when(register('n1'))
      .then([registered('n1')]);
    given([registered('n1')])
      .when(register('n1'))
      .then([]);
  });

  it('refuses the same nodeId with other terms, naming the field', () => {
    const decision = nodeRegistryAggregate.decide(
      register('n1', { ...config, levelMin: 3 }),
      [registered('n1')].reduce(nodeRegistryAggregate.evolve, nodeRegistryAggregate.initialState),
    );
    expect(decision).toMatchObject({
      ok: false,
      rejection: 'node_exists',
      detail: { field: 'levelMin' },
    });
  });

  it('binds a client to one live node only, and frees it when that node retires', () => {
    given([registered('n1')])
      .when(register('n2'))
      .thenRejects('node_client_taken');
    given([registered('n1'), retired('n1')])
      .when(register('n2'))
      .then([registered('n2')]);
  });

  it('updates a node, and an update without change appends nothing', () => {
    const moved = { ...config, group: 'europe', levelMin: 0 };
    given([registered('n1')])
      .when(update('n1', moved))
      .then([{ type: 'NodeUpdated', data: { nodeId: 'n1', ...moved, updatedAt: later } }]);
    given([registered('n1')])
      .when(update('n1', config))
      .then([]);
  });

  it('refuses updates of unknown and retired nodes, and a client another node holds', () => {
    given([]).when(update('n1', config)).thenRejects('node_not_found');
    given([registered('n1'), retired('n1')])
      .when(update('n1', config))
      .thenRejects('node_retired');
    const other = { ...config, clientId: 'node-client-2' };
    given([registered('n1'), registered('n2', other)])
      .when(update('n2', config))
      .thenRejects('node_client_taken');
  });

  it('retires a node once; retiring an unknown node is refused', () => {
    given([registered('n1')])
      .when(retire('n1'))
      .then([retired('n1')]);
    given([registered('n1'), retired('n1')])
      .when(retire('n1'))
      .then([]);
    given([]).when(retire('n1')).thenRejects('node_not_found');
  });

  it('refuses on replay a stream decide could not have written', () => {
    const fold = (events: NodeEvent[]) =>
      events.reduce(nodeRegistryAggregate.evolve, nodeRegistryAggregate.initialState);
    expect(() => fold([registered('n1'), registered('n1')])).toThrow(AssertionError);
    expect(() => fold([retired('n1')])).toThrow(AssertionError);
    expect(() => fold([registered('n1'), retired('n1'), retired('n1')])).toThrow(AssertionError);
  });

  it('reads every stored event back through its codec, and refuses a damaged one', () => {
    const events = [registered('n1'), { ...retired('n1') }];
    for (const event of events) {
      const stored = {
        type: event.type,
        data: nodeEventCodec.encode(event),
        metadata: { schemaVersion: 1 },
      };
      expect(nodeEventCodec.parse(stored)).toEqual(event);
    }
    const damaged = { ...nodeEventCodec.encode(registered('n1')), levelMin: 256 };
    expect(() =>
      nodeEventCodec.parse({
        type: 'NodeRegistered',
        data: damaged,
        metadata: { schemaVersion: 1 },
      }),
    ).toThrow(AssertionError);
    expect(() =>
      nodeEventCodec.parse({
        type: 'NodeMoved',
        data: { nodeId: 'n1' },
        metadata: { schemaVersion: 1 },
      }),
    ).toThrow(AssertionError);
  });
});
