import {
  trafficAggregate,
  trafficView,
  type TrafficEvent,
} from '../../../domain/traffic/traffic.decider';
import { exceeded, granted, used } from './traffic.fixtures';

const viewOf = (events: readonly TrafficEvent[]) =>
  trafficView('user-1', events.reduce(trafficAggregate.evolve, trafficAggregate.initialState));

describe('trafficView', () => {
  it('shows a user never seen: no quota, no usage', () => {
    expect(viewOf([])).toEqual({
      userId: 'user-1',
      quotaBytes: 0,
      uploadBytes: 0,
      downloadBytes: 0,
      usedBytes: 0,
      remainingBytes: 0,
      exceeded: false,
    });
  });

  it('adds upload and download into used and remaining', () => {
    expect(viewOf([granted('g-1', 100), used('u-1', 30, 40)])).toMatchObject({
      usedBytes: 70,
      remainingBytes: 30,
      exceeded: false,
    });
  });

  it('never shows negative remaining bytes past the quota', () => {
    const view = viewOf([granted('g-1', 100), used('u-1', 60, 41), exceeded(101, 100)]);
    expect(view).toMatchObject({ usedBytes: 101, remainingBytes: 0, exceeded: true });
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });
});
