import {
  initialTrafficUserState,
  trafficUserOf,
  trafficView,
  type TrafficEvent,
} from '../../../domain/traffic/traffic.decider';
import { crossing, exceeded, granted, reported, stateOf, use, wasReset } from './traffic.fixtures';

/** What GET /v1/traffic/users/:userId shows for that user after the shard's history. */
const viewOf = (userId: string, events: readonly TrafficEvent[]) =>
  trafficView(userId, trafficUserOf(stateOf(events), userId));

describe('trafficView', () => {
  it('shows a user never seen: no quota, no usage', () => {
    const expected = {
      userId: 'alice',
      quotaBytes: 0,
      uploadBytes: 0,
      downloadBytes: 0,
      usedBytes: 0,
      remainingBytes: 0,
      exceeded: false,
      level: 0,
      group: 'default',
      expiresAt: null,
    };
    expect(viewOf('alice', [])).toEqual(expected);
    expect(trafficView('alice', initialTrafficUserState)).toEqual(expected);
  });

  it('adds upload and download into used and remaining', () => {
    expect(
      viewOf('alice', [granted('alice', 'g-1', 100), reported('r-1', [use('alice', 30, 40)])]),
    ).toEqual({
      userId: 'alice',
      quotaBytes: 100,
      uploadBytes: 30,
      downloadBytes: 40,
      usedBytes: 70,
      remainingBytes: 30,
      exceeded: false,
      level: 0,
      group: 'default',
      expiresAt: null,
    });
  });

  it('shows only the asked user of the shard', () => {
    const history = [
      granted('alice', 'g-1', 100),
      granted('bob', 'g-1', 500),
      reported('r-1', [use('alice', 10), use('bob', 200, 100)]),
    ];
    expect(viewOf('alice', history)).toMatchObject({
      userId: 'alice',
      quotaBytes: 100,
      usedBytes: 10,
    });
    expect(viewOf('bob', history)).toMatchObject({
      userId: 'bob',
      quotaBytes: 500,
      usedBytes: 300,
      remainingBytes: 200,
    });
    expect(viewOf('carol', history)).toMatchObject({
      userId: 'carol',
      quotaBytes: 0,
      usedBytes: 0,
    });
  });

  it('shows zero remaining, not exceeded, at the quota exactly', () => {
    expect(
      viewOf('alice', [granted('alice', 'g-1', 100), reported('r-1', [use('alice', 60, 40)])]),
    ).toMatchObject({
      usedBytes: 100,
      remainingBytes: 0,
      exceeded: false,
      level: 0,
      group: 'default',
      expiresAt: null,
    });
  });

  it('never shows negative remaining bytes past the quota', () => {
    const view = viewOf('alice', [
      granted('alice', 'g-1', 100),
      reported('r-1', [use('alice', 60, 41)]),
      exceeded('r-1', [crossing('alice', 101, 100)]),
    ]);
    expect(view).toMatchObject({ usedBytes: 101, remainingBytes: 0, exceeded: true });
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });

  it('shows the new period after a reset', () => {
    const view = viewOf('alice', [
      granted('alice', 'g-1', 100),
      reported('r-1', [use('alice', 60, 41)]),
      exceeded('r-1', [crossing('alice', 101, 100)]),
      wasReset('alice', 'p-2', 50),
    ]);
    expect(view).toEqual({
      userId: 'alice',
      quotaBytes: 50,
      uploadBytes: 0,
      downloadBytes: 0,
      usedBytes: 0,
      remainingBytes: 50,
      exceeded: false,
      level: 0,
      group: 'default',
      expiresAt: null,
    });
  });

  it('keeps byte counts exact at the safe-integer limit', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const view = viewOf('alice', [
      granted('alice', 'g-1', max),
      reported('r-1', [use('alice', max - 10, 9)]),
    ]);
    expect(view).toMatchObject({ usedBytes: max - 1, remainingBytes: 1, exceeded: false });
    expect(Number.isSafeInteger(view.usedBytes)).toBe(true);
  });
});
