import { AssertionError } from '../../../domain/assert';
import {
  recentReportCountMax,
  trafficAggregate,
  type TrafficEvent,
} from '../../../domain/traffic/traffic.decider';
import { deciderSpec } from '../../support/decider-spec';
import { exceeded, grant, granted, reset, usage, used, wasReset } from './traffic.fixtures';

const given = deciderSpec(trafficAggregate);
const stateOf = (events: readonly TrafficEvent[]) =>
  events.reduce(trafficAggregate.evolve, trafficAggregate.initialState);
const max = Number.MAX_SAFE_INTEGER;

describe('GrantQuota', () => {
  it('adds to the quota', () => {
    given([granted('g-1', 100)])
      .when(grant('g-2', 50))
      .then([granted('g-2', 50)]);
    given([granted('g-1', 100)])
      .when(grant('g-2', 50))
      .thenState((state) => expect(state.quotaBytes).toBe(150));
  });

  it('ignores a grant it already applied', () => {
    given([granted('g-1', 100)])
      .when(grant('g-1', 100))
      .then([]);
    given([granted('g-1', 100), wasReset('p-2', 0)])
      .when(grant('g-1', 100))
      .then([]);
  });

  it('grants up to the safe-integer limit and refuses one byte more', () => {
    given([granted('g-1', max - 1)])
      .when(grant('g-2', 1))
      .then([granted('g-2', 1)]);
    given([granted('g-1', max - 1)])
      .when(grant('g-2', 2))
      .thenRejects('quota_overflow');
  });

  it.each([0, -1, 1.5])('treats quotaBytes %p as a bug (ajv validates it)', (bytes) => {
    expect(() => trafficAggregate.decide(grant('g-1', bytes), stateOf([]))).toThrow(AssertionError);
  });
});

describe('ResetQuota', () => {
  const history = [granted('g-1', 100), used('u-1', 150), exceeded(150, 100)];

  it('starts a new period: quota replaced, usage zero, no longer exceeded', () => {
    given(history)
      .when(reset('p-2', 80))
      .then([wasReset('p-2', 80)]);
    given(history)
      .when(reset('p-2', 80))
      .thenState((state) =>
        expect(state).toMatchObject({
          quotaBytes: 80,
          uploadBytes: 0,
          downloadBytes: 0,
          exceeded: false,
        }),
      );
  });

  it('accepts a zero quota', () =>
    given([])
      .when(reset('p-1', 0))
      .then([wasReset('p-1', 0)]));

  it('ignores a reset it already applied', () => {
    given([wasReset('p-1', 100), used('u-1', 10)])
      .when(reset('p-1', 100))
      .then([]);
  });

  it.each([-1, 0.5])('treats quotaBytes %p as a bug (ajv validates it)', (bytes) => {
    expect(() => trafficAggregate.decide(reset('p-1', bytes), stateOf([]))).toThrow(AssertionError);
  });
});

describe('RecordUsage', () => {
  it('records upload and download, adding to the totals', () => {
    given([granted('g-1', 100)])
      .when(usage('u-1', 10, 20))
      .then([used('u-1', 10, 20)]);
    given([granted('g-1', 100), used('u-1', 10, 20)])
      .when(usage('u-2', 1, 2))
      .thenState((state) => expect(state).toMatchObject({ uploadBytes: 11, downloadBytes: 22 }));
  });

  it('accepts a report with one side zero and rejects one with both zero', () => {
    given([granted('g-1', 100)])
      .when(usage('u-1', 0, 5))
      .then([used('u-1', 0, 5)]);
    given([granted('g-1', 100)])
      .when(usage('u-1', 0, 0))
      .thenRejects('empty_usage');
  });

  it('reaches the quota exactly without exceeding it, and exceeds it one byte later', () => {
    given([granted('g-1', 100)])
      .when(usage('u-1', 60, 40))
      .then([used('u-1', 60, 40)]);
    given([granted('g-1', 100), used('u-1', 60, 40)])
      .when(usage('u-2', 0, 1))
      .then([used('u-2', 0, 1), exceeded(101, 100)]);
  });

  it('exceeds on the first usage when nothing was granted (no plan, no quota)', () => {
    given([])
      .when(usage('u-1', 1))
      .then([used('u-1', 1), exceeded(1, 0)]);
  });

  it('announces a crossing once: later usage while exceeded is only recorded', () => {
    given([used('u-1', 1), exceeded(1, 0)])
      .when(usage('u-2', 5))
      .then([used('u-2', 5)]);
  });

  it('announces again after a grant brings usage back within quota', () => {
    const history = [used('u-1', 10), exceeded(10, 0), granted('g-1', 10)];
    given(history)
      .when(usage('u-2', 1))
      .then([used('u-2', 1), exceeded(11, 10)]);
  });

  it('stays exceeded when a grant falls short of the usage', () => {
    const history = [used('u-1', 10), exceeded(10, 0), granted('g-1', 9)];
    given(history)
      .when(usage('u-2', 1))
      .then([used('u-2', 1)]);
  });

  it('announces again after a reset', () => {
    const history = [used('u-1', 10), exceeded(10, 0), wasReset('p-2', 5)];
    given(history)
      .when(usage('u-2', 6))
      .then([used('u-2', 6), exceeded(6, 5)]);
  });

  it('ignores a retried report, wherever it landed', () => {
    given([granted('g-1', 100), used('u-1', 10)])
      .when(usage('u-1', 10))
      .then([]);
    given([used('u-1', 10), exceeded(10, 0)])
      .when(usage('u-1', 10))
      .then([]);
  });

  const others = (count: number) =>
    Array.from({ length: count }, (_, index) => used(`other-${index}`, 1));
  it(`remembers the last ${recentReportCountMax} reports and no more`, () => {
    const history = [granted('g-1', 10_000), used('u-1', 10)];
    const withinWindow = [...history, ...others(recentReportCountMax - 1)];
    const pastWindow = [...history, ...others(recentReportCountMax)];
    given(withinWindow).when(usage('u-1', 10)).then([]);
    given(pastWindow)
      .when(usage('u-1', 10))
      .then([used('u-1', 10)]);
    given(pastWindow)
      .when(usage('u-2', 1))
      .thenState((state) => expect(state.recentReportIds).toHaveLength(recentReportCountMax));
  });

  it('keeps each total within the safe-integer range, to the byte', () => {
    const nearMax = [used('u-1', max - 1), exceeded(max - 1, 0)];
    given(nearMax)
      .when(usage('u-2', 1))
      .then([used('u-2', 1)]);
    given(nearMax).when(usage('u-2', 2)).thenRejects('usage_overflow');
    given([used('u-1', 0, max - 1), exceeded(max - 1, 0)])
      .when(usage('u-2', 0, 2))
      .thenRejects('usage_overflow');
    // Upload and download each fit, but their sum (usedBytes) would not.
    given(nearMax)
      .when(usage('u-2', 0, 1))
      .then([used('u-2', 0, 1)]);
    given(nearMax)
      .when(usage('u-2', 0, 2))
      .thenRejects('usage_overflow');
  });

  it.each([
    [-1, 0],
    [0, -1],
    [1.5, 0],
    [max + 1, 0],
  ])('treats upload %p / download %p as a bug (ajv validates it)', (upload, download) => {
    expect(() => trafficAggregate.decide(usage('u-1', upload, download), stateOf([]))).toThrow(
      AssertionError,
    );
  });
});

describe('evolve refuses streams decide could not have produced', () => {
  it.each<[string, TrafficEvent[]]>([
    ['a grant applied twice', [granted('g-1', 1), granted('g-1', 1)]],
    ['a grant overflowing the quota', [granted('g-1', max), granted('g-2', 1)]],
    ['a reset applied twice', [wasReset('p-1', 1), wasReset('p-1', 1)]],
    ['a recent report recorded twice', [used('u-1', 1), used('u-1', 1)]],
    ['usage overflowing', [used('u-1', max), used('u-2', 0, 1)]],
    ['an exceed without a crossing', [granted('g-1', 10), used('u-1', 10), exceeded(10, 10)]],
    ['an exceed announced twice', [used('u-1', 1), exceeded(1, 0), used('u-2', 1), exceeded(2, 0)]],
    ['an exceed with other totals', [used('u-1', 2), exceeded(1, 0)]],
  ])('%s', (_name, events) => expect(() => stateOf(events)).toThrow(AssertionError));
});
