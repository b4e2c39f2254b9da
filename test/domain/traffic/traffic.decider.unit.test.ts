import { AssertionError } from '../../../domain/assert';
import {
  recentReportCountMax,
  trafficAggregate,
  type TrafficCommand,
  type TrafficEvent,
} from '../../../domain/traffic/traffic.decider';
import { deciderSpec } from '../../support/decider-spec';
import {
  crossing,
  exceeded,
  grant,
  now,
  granted,
  overflowed,
  report,
  reported,
  reset,
  stateOf,
  use,
  wasReset,
} from './traffic.fixtures';

const given = deciderSpec(trafficAggregate);
const max = Number.MAX_SAFE_INTEGER;
const decide = (command: TrafficCommand, history: readonly TrafficEvent[] = []) =>
  trafficAggregate.decide(command, stateOf(history));

describe('GrantQuota', () => {
  it('adds to the quota of that user only', () => {
    const history = [granted('alice', 'g-1', 100), granted('bob', 'g-9', 7)];
    given(history)
      .when(grant('alice', 'g-2', 50))
      .then([granted('alice', 'g-2', 50)]);
    given(history)
      .when(grant('alice', 'g-2', 50))
      .thenState((state) => {
        expect(state.users.get('alice')).toMatchObject({
          quotaBytes: 150,
          grantIds: ['g-1', 'g-2'],
        });
        expect(state.users.get('bob')).toMatchObject({ quotaBytes: 7, grantIds: ['g-9'] });
        expect(state.users.has('carol')).toBe(false);
      });
  });

  it('gives a user never seen the granted quota', () =>
    given([])
      .when(grant('alice', 'g-1', 100))
      .thenState((state) =>
        expect(state.users.get('alice')).toEqual({
          quotaBytes: 100,
          uploadBytes: 0,
          downloadBytes: 0,
          exceeded: false,
          grantIds: ['g-1'],
          resetIds: [],
          level: 0,
          group: 'default',
          expiresAt: null,
        }),
      ));

  it('ignores a grant it already applied to that user, even after a reset', () => {
    given([granted('alice', 'g-1', 100)])
      .when(grant('alice', 'g-1', 100))
      .then([]);
    given([granted('alice', 'g-1', 100), wasReset('alice', 'p-2', 0)])
      .when(grant('alice', 'g-1', 100))
      .then([]);
    // The retry is answered the same even when a second application would overflow.
    given([granted('alice', 'g-1', max)])
      .when(grant('alice', 'g-1', max))
      .then([]);
  });

  it('treats the same grantId for another user as a different grant', () => {
    given([granted('alice', 'g-1', 100)])
      .when(grant('bob', 'g-1', 30))
      .then([granted('bob', 'g-1', 30)]);
    given([granted('alice', 'g-1', 100)])
      .when(grant('bob', 'g-1', 30))
      .thenState((state) => {
        expect(state.users.get('alice')?.quotaBytes).toBe(100);
        expect(state.users.get('bob')?.quotaBytes).toBe(30);
      });
  });

  it('grants up to the safe-integer limit and refuses one byte more', () => {
    given([granted('alice', 'g-1', max - 1)])
      .when(grant('alice', 'g-2', 1))
      .then([granted('alice', 'g-2', 1)]);
    given([granted('alice', 'g-1', max - 1)])
      .when(grant('alice', 'g-2', 2))
      .thenRejects('quota_overflow');
    // Another user's quota near the limit does not count against this one.
    given([granted('alice', 'g-1', max)])
      .when(grant('bob', 'g-2', max))
      .then([granted('bob', 'g-2', max)]);
  });

  it('lifts the exceeded flag when the quota reaches the usage again', () => {
    const history = [
      granted('alice', 'g-1', 10),
      reported('r-1', [use('alice', 15)]),
      exceeded('r-1', [crossing('alice', 15, 10)]),
    ];
    given(history)
      .when(grant('alice', 'g-2', 5))
      .thenState((state) => expect(state.users.get('alice')).toMatchObject({ exceeded: false }));
    given(history)
      .when(grant('alice', 'g-2', 4))
      .thenState((state) =>
        expect(state.users.get('alice')).toMatchObject({ quotaBytes: 14, exceeded: true }),
      );
  });

  it.each([0, -1, 1.5, max + 1, Number.NaN])(
    'treats quotaBytes %p as a bug (ajv validates it)',
    (bytes) => expect(() => decide(grant('alice', 'g-1', bytes))).toThrow(AssertionError),
  );
});

describe('ResetQuota', () => {
  const history = [
    granted('alice', 'g-1', 100),
    granted('bob', 'g-2', 100),
    reported('r-1', [use('alice', 100, 50), use('bob', 20, 30)]),
    exceeded('r-1', [crossing('alice', 150, 100)]),
  ];

  it('starts a new period for that user: quota replaced, usage zero, no longer exceeded', () => {
    given(history)
      .when(reset('alice', 'p-2', 80))
      .then([wasReset('alice', 'p-2', 80)]);
    given(history)
      .when(reset('alice', 'p-2', 80))
      .thenState((state) => {
        expect(state.users.get('alice')).toEqual({
          quotaBytes: 80,
          uploadBytes: 0,
          downloadBytes: 0,
          exceeded: false,
          grantIds: ['g-1'],
          resetIds: ['p-2'],
          level: 0,
          group: 'default',
          expiresAt: null,
        });
        expect(state.users.get('bob')).toMatchObject({ uploadBytes: 20, downloadBytes: 30 });
      });
  });

  it('accepts a zero quota', () =>
    given([])
      .when(reset('alice', 'p-1', 0))
      .then([wasReset('alice', 'p-1', 0)]));

  it('ignores a reset it already applied to that user', () => {
    given([wasReset('alice', 'p-1', 100), reported('r-1', [use('alice', 10)])])
      .when(reset('alice', 'p-1', 100))
      .then([]);
  });

  it('treats the same resetId for another user as a different reset', () =>
    given([wasReset('alice', 'p-1', 100)])
      .when(reset('bob', 'p-1', 50))
      .then([wasReset('bob', 'p-1', 50)]));

  it.each([-1, 0.5, max + 1])('treats quotaBytes %p as a bug (ajv validates it)', (bytes) => {
    expect(() => decide(reset('alice', 'p-1', bytes))).toThrow(AssertionError);
  });
});

describe('RecordUsage', () => {
  it('records every user of the report in one UsageReported, adding to their totals', () => {
    const history = [
      granted('alice', 'g-1', 100),
      granted('bob', 'g-2', 100),
      reported('r-1', [use('alice', 10, 20)]),
    ];
    const usages = [use('alice', 1, 2), use('bob', 3, 4)];
    given(history)
      .when(report('r-2', usages))
      .then([reported('r-2', usages)]);
    given(history)
      .when(report('r-2', usages))
      .thenState((state) => {
        expect(state.users.get('alice')).toMatchObject({ uploadBytes: 11, downloadBytes: 22 });
        expect(state.users.get('bob')).toMatchObject({ uploadBytes: 3, downloadBytes: 4 });
        expect(state.recentReports.get('r-2')).toEqual([]);
      });
  });

  it('accepts a record with one side zero', () => {
    const usages = [use('alice', 0, 5), use('bob', 7, 0)];
    given([granted('alice', 'g-1', 100), granted('bob', 'g-2', 100)])
      .when(report('r-1', usages))
      .then([reported('r-1', usages)]);
  });

  it('rejects a report without records', () =>
    given([granted('alice', 'g-1', 100)])
      .when(report('r-1', []))
      .thenRejects('empty_usage'));

  it('treats a record of 0 + 0 bytes as a bug (the API drops them)', () => {
    const history = [granted('alice', 'g-1', 100)];
    expect(() => decide(report('r-1', [use('alice', 0, 0)]), history)).toThrow(AssertionError);
    expect(() => decide(report('r-1', [use('bob', 1), use('alice', 0, 0)]), history)).toThrow(
      AssertionError,
    );
  });

  it('treats a user twice in one command as a bug (the API merges them)', () => {
    const twice = report('r-1', [use('alice', 1), use('bob', 1), use('alice', 2)]);
    expect(() => decide(twice, [granted('alice', 'g-1', 100)])).toThrow(AssertionError);
  });

  it.each([
    [-1, 0],
    [0, -1],
    [1.5, 0],
    [0, 0.5],
    [max + 1, 0],
    [0, Number.NaN],
  ])('treats upload %p / download %p as a bug (ajv validates it)', (upload, download) => {
    expect(() => decide(report('r-1', [use('alice', upload, download)]))).toThrow(AssertionError);
  });

  describe('quota crossings', () => {
    it('reaches the quota exactly without exceeding it, and exceeds it one byte later', () => {
      given([granted('alice', 'g-1', 100)])
        .when(report('r-1', [use('alice', 60, 40)]))
        .then([reported('r-1', [use('alice', 60, 40)])]);
      given([granted('alice', 'g-1', 100), reported('r-1', [use('alice', 60, 40)])])
        .when(report('r-2', [use('alice', 0, 1)]))
        .then([
          reported('r-2', [use('alice', 0, 1)]),
          exceeded('r-2', [crossing('alice', 101, 100)]),
        ]);
    });

    it('exceeds on the first usage when nothing was granted (no plan, no quota)', () =>
      given([])
        .when(report('r-1', [use('alice', 1)]))
        .then([reported('r-1', [use('alice', 1)]), exceeded('r-1', [crossing('alice', 1, 0)])]));

    it('lists only the users that crossed, in report order, with their totals after the report', () => {
      const history = [
        granted('alice', 'g-1', 100),
        granted('bob', 'g-2', 100),
        granted('carol', 'g-3', 10),
        granted('dave', 'g-4', 50),
        reported('r-1', [use('carol', 11), use('dave', 20, 20)]),
        exceeded('r-1', [crossing('carol', 11, 10)]),
      ];
      const usages = [
        use('dave', 5, 6), // 51 > 50: crosses
        use('bob', 50), // within quota
        use('carol', 1), // already exceeded: silent
        use('alice', 70, 31), // 101 > 100: crosses
      ];
      given(history)
        .when(report('r-2', usages))
        .then([
          reported('r-2', usages),
          exceeded('r-2', [crossing('dave', 51, 50), crossing('alice', 101, 100)]),
        ]);
      given(history)
        .when(report('r-2', usages))
        .thenState((state) => {
          expect(state.users.get('alice')?.exceeded).toBe(true);
          expect(state.users.get('bob')?.exceeded).toBe(false);
          expect(state.users.get('carol')).toMatchObject({ uploadBytes: 12, exceeded: true });
          expect(state.users.get('dave')?.exceeded).toBe(true);
        });
    });

    const overQuota = [
      reported('r-1', [use('alice', 10)]),
      exceeded('r-1', [crossing('alice', 10, 0)]),
    ];

    it('announces a crossing once: later usage while exceeded is only recorded', () =>
      given(overQuota)
        .when(report('r-2', [use('alice', 5)]))
        .then([reported('r-2', [use('alice', 5)])]));

    it('announces again after a grant brings usage back within the quota', () => {
      given([...overQuota, granted('alice', 'g-1', 10)])
        .when(report('r-2', [use('alice', 1)]))
        .then([reported('r-2', [use('alice', 1)]), exceeded('r-2', [crossing('alice', 11, 10)])]);
    });

    it('stays exceeded, and silent, when a grant falls short of the usage', () =>
      given([...overQuota, granted('alice', 'g-1', 9)])
        .when(report('r-2', [use('alice', 1)]))
        .then([reported('r-2', [use('alice', 1)])]));

    it('announces again after a reset', () =>
      given([...overQuota, wasReset('alice', 'p-2', 5)])
        .when(report('r-2', [use('alice', 6)]))
        .then([reported('r-2', [use('alice', 6)]), exceeded('r-2', [crossing('alice', 6, 5)])]));
  });

  describe('retries', () => {
    const history = [granted('alice', 'g-1', 100), reported('r-1', [use('alice', 10)])];

    it('ignores a report it already applied, whatever it now carries', () => {
      given(history)
        .when(report('r-1', [use('alice', 10)]))
        .then([]);
      given(history)
        .when(report('r-1', [use('alice', 99), use('bob', 1)]))
        .then([]);
      given([
        ...history,
        reported('r-2', [use('bob', 1)]),
        exceeded('r-2', [crossing('bob', 1, 0)]),
      ])
        .when(report('r-2', [use('bob', 1)]))
        .then([]);
    });

    it('remembers the users each recent report refused, to answer a retry the same', () => {
      const nearMax = [granted('alice', 'g-1', max), reported('r-1', [use('alice', max)])];
      given(nearMax)
        .when(report('r-2', [use('alice', 1), use('bob', 2)]))
        .thenState((state) => {
          expect(state.recentReports.get('r-2')).toEqual([overflowed('alice')]);
          expect(state.recentReports.get('r-1')).toEqual([]);
          // The retry changes nothing, and the answer is still in the state.
          const retry = trafficAggregate.decide(report('r-2', [use('alice', 1)]), state);
          expect(retry).toEqual({ ok: true, events: [] });
          expect(state.recentReports.get('r-2')).toEqual([overflowed('alice')]);
        });
    });

    const others = (count: number) =>
      Array.from({ length: count }, (_, index) => reported(`other-${index}`, [use('bob', 1)]));

    it(`remembers the last ${recentReportCountMax} reports, oldest forgotten first`, () => {
      const withinWindow = [...history, ...others(recentReportCountMax - 1)];
      const pastWindow = [...history, ...others(recentReportCountMax)];
      given(withinWindow)
        .when(report('r-1', [use('alice', 10)]))
        .then([]);
      given(pastWindow)
        .when(report('r-1', [use('alice', 10)]))
        .then([reported('r-1', [use('alice', 10)])]);
      given(pastWindow)
        .when(report('other-0', [use('bob', 1)]))
        .then([]);
      given(pastWindow)
        .when(report('r-1', [use('alice', 10)]))
        .thenState((state) => {
          expect(state.recentReports.size).toBe(recentReportCountMax);
          // r-1 came back as the newest and pushed out other-0, then the oldest.
          expect(state.recentReports.has('other-0')).toBe(false);
          expect([...state.recentReports.keys()][0]).toBe('other-1');
          expect([...state.recentReports.keys()].at(-1)).toBe('r-1');
          expect(state.users.get('alice')?.uploadBytes).toBe(20);
          expect(state.users.get('bob')?.uploadBytes).toBe(recentReportCountMax);
        });
    });
  });

  describe('the safe-integer range', () => {
    // Alice's quota equals max, so no crossing gets in the way of the byte-exact limits.
    const nearMax = [granted('alice', 'g-1', max), reported('r-1', [use('alice', max - 1)])];

    it('counts a user up to the limit, to the byte', () =>
      given(nearMax)
        .when(report('r-2', [use('alice', 1)]))
        .then([reported('r-2', [use('alice', 1)])]));

    it('refuses the user that would overflow and counts the others', () => {
      const usages = [use('bob', 3), use('alice', 2), use('carol', 0, 4)];
      given(nearMax)
        .when(report('r-2', usages))
        .then([
          reported('r-2', [use('bob', 3), use('carol', 0, 4)], [overflowed('alice')]),
          exceeded('r-2', [crossing('bob', 3, 0), crossing('carol', 4, 0)]),
        ]);
      given(nearMax)
        .when(report('r-2', usages))
        .thenState((state) => {
          expect(state.users.get('alice')).toMatchObject({
            uploadBytes: max - 1,
            downloadBytes: 0,
          });
          expect(state.users.get('bob')?.uploadBytes).toBe(3);
          expect(state.users.get('carol')?.downloadBytes).toBe(4);
          expect(state.recentReports.get('r-2')).toEqual([overflowed('alice')]);
        });
    });

    it('records a report whose every user is refused, so its retry is recognised', () => {
      given(nearMax)
        .when(report('r-2', [use('alice', 2)]))
        .then([reported('r-2', [], [overflowed('alice')])]);
    });

    it('refuses a download total or an upload + download sum past the limit', () => {
      const downloadNearMax = [
        granted('alice', 'g-1', max),
        reported('r-1', [use('alice', 0, max - 1)]),
      ];
      given(downloadNearMax)
        .when(report('r-2', [use('alice', 0, 2)]))
        .then([reported('r-2', [], [overflowed('alice')])]);
      // Upload and download each fit, but their sum (usedBytes) would not.
      given(nearMax)
        .when(report('r-2', [use('alice', 0, 1)]))
        .then([reported('r-2', [use('alice', 0, 1)])]);
      given(nearMax)
        .when(report('r-2', [use('alice', 0, 2)]))
        .then([reported('r-2', [], [overflowed('alice')])]);
    });

    it('does not announce a crossing for a refused user', () => {
      // Within quota at max - 1: one byte more crosses it, two bytes more are refused.
      const atQuota = [granted('alice', 'g-1', max - 1), reported('r-1', [use('alice', max - 1)])];
      given(atQuota)
        .when(report('r-2', [use('alice', 1)]))
        .then([
          reported('r-2', [use('alice', 1)]),
          exceeded('r-2', [crossing('alice', max, max - 1)]),
        ]);
      given(atQuota)
        .when(report('r-2', [use('alice', 2)]))
        .then([reported('r-2', [], [overflowed('alice')])]);
    });
  });
});

describe('ImportUser', () => {
  const legacy = {
    quotaBytes: 100,
    uploadBytes: 150,
    downloadBytes: 0,
    exceeded: true,
    grantIds: ['g-1'],
    resetIds: [],
  };
  const importCommand: TrafficCommand = {
    type: 'ImportUser',
    data: { userId: 'alice', user: legacy, sourceStream: 'traffic-alice', sourceRevision: 2, now },
  };
  const imported: TrafficEvent = {
    type: 'UserImported',
    data: {
      userId: 'alice',
      ...legacy,
      grantIds: ['g-1'],
      resetIds: [],
      sourceStream: 'traffic-alice',
      sourceRevision: 2,
      importedAt: now,
    },
  };

  it('carries a legacy user into the shard as it was, and later rules apply to it', () => {
    given([]).when(importCommand).then([imported]);
    given([imported])
      .when(grant('alice', 'g-1', 10))
      .then([]);
    given([imported])
      .when(grant('alice', 'g-2', 100))
      .thenState((state) => expect(state.users.get('alice')?.exceeded).toBe(false));
  });

  it('imports nobody the shard already has (a second run after a crash)', () => {
    given([imported]).when(importCommand).then([]);
    given([granted('alice', 'g-9', 5)])
      .when(importCommand)
      .then([]);
  });

  it('refuses a replayed import of a user already in the shard', () => {
    expect(() => stateOf([imported, imported])).toThrow(AssertionError);
  });

  it('treats a legacy state past the safe range as a bug', () => {
    const damaged = {
      ...importCommand.data,
      user: { ...legacy, uploadBytes: max, downloadBytes: 1 },
    };
    expect(() => decide({ type: 'ImportUser', data: damaged })).toThrow(AssertionError);
  });
});

describe('evolve refuses streams decide could not have produced', () => {
  it.each<[string, TrafficEvent[]]>([
    ['a grant applied twice', [granted('alice', 'g-1', 1), granted('alice', 'g-1', 1)]],
    ['a grant overflowing the quota', [granted('alice', 'g-1', max), granted('alice', 'g-2', 1)]],
    ['a reset applied twice', [wasReset('alice', 'p-1', 1), wasReset('alice', 'p-1', 1)]],
    ['a reset to a negative quota', [wasReset('alice', 'p-1', -1)]],
    [
      'a report recorded twice',
      [reported('r-1', [use('alice', 1)]), reported('r-1', [use('bob', 1)])],
    ],
    [
      'usage overflowing',
      [reported('r-1', [use('alice', max)]), reported('r-2', [use('alice', 0, 1)])],
    ],
    ['a negative usage', [reported('r-1', [use('alice', -1)])]],
    [
      'an exceed without a crossing',
      [
        granted('alice', 'g-1', 10),
        reported('r-1', [use('alice', 10)]),
        exceeded('r-1', [crossing('alice', 10, 10)]),
      ],
    ],
    [
      'an exceed announced twice',
      [
        reported('r-1', [use('alice', 1)]),
        exceeded('r-1', [crossing('alice', 1, 0)]),
        reported('r-2', [use('alice', 1)]),
        exceeded('r-2', [crossing('alice', 2, 0)]),
      ],
    ],
    [
      'an exceed with another usedBytes',
      [reported('r-1', [use('alice', 2)]), exceeded('r-1', [crossing('alice', 1, 0)])],
    ],
    [
      'an exceed with another quotaBytes',
      [
        granted('alice', 'g-1', 1),
        reported('r-1', [use('alice', 2)]),
        exceeded('r-1', [crossing('alice', 2, 0)]),
      ],
    ],
    [
      'an exceed naming a user the report did not push over',
      [
        reported('r-1', [use('alice', 2)]),
        exceeded('r-1', [crossing('alice', 2, 0), crossing('bob', 0, 0)]),
      ],
    ],
  ])('%s', (_name, events) => expect(() => stateOf(events)).toThrow(AssertionError));

  it.each<[string, TrafficEvent[]]>([
    [
      'an exceed with the totals of the stream',
      [
        granted('alice', 'g-1', 1),
        reported('r-1', [use('alice', 2)]),
        exceeded('r-1', [crossing('alice', 2, 1)]),
      ],
    ],
    [
      'a second exceed after a grant lifted the first',
      [
        reported('r-1', [use('alice', 1)]),
        exceeded('r-1', [crossing('alice', 1, 0)]),
        granted('alice', 'g-1', 1),
        reported('r-2', [use('alice', 1)]),
        exceeded('r-2', [crossing('alice', 2, 1)]),
      ],
    ],
    ['the same grantId for two users', [granted('alice', 'g-1', 1), granted('bob', 'g-1', 1)]],
    ['the same resetId for two users', [wasReset('alice', 'p-1', 1), wasReset('bob', 'p-1', 1)]],
  ])('but replays %s', (_name, events) => expect(() => stateOf(events)).not.toThrow());
});
