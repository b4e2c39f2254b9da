import fc from 'fast-check';
import {
  recentReportCountMax,
  trafficAggregate,
  trafficRejections,
  type TrafficCommand,
  type TrafficEvent,
} from '../../../domain/traffic/traffic.decider';
import { trafficSnapshotCodec } from '../../../domain/traffic/traffic.snapshot';
import type { JsonValue } from '../../../domain/ports/event-store.port';
import { grant, reset, usage } from './traffic.fixtures';

/** A plain reference model of the rules, written independently of the decider. */
type Model = {
  quota: number;
  upload: number;
  download: number;
  exceeded: boolean;
  applied: Set<string>;
  recent: string[];
};

/** The events the rules call for, updating the model as the decider's state should move. */
const expectedEvents = (model: Model, command: TrafficCommand): string[] => {
  switch (command.type) {
    case 'GrantQuota': {
      if (model.applied.has(command.data.grantId)) return [];
      model.applied.add(command.data.grantId);
      model.quota += command.data.quotaBytes;
      if (model.upload + model.download <= model.quota) model.exceeded = false;
      return ['QuotaGranted'];
    }
    case 'ResetQuota': {
      if (model.applied.has(command.data.resetId)) return [];
      model.applied.add(command.data.resetId);
      Object.assign(model, { quota: command.data.quotaBytes, upload: 0, download: 0 });
      model.exceeded = false;
      return ['QuotaReset'];
    }
    case 'RecordUsage': {
      const { reportId, uploadBytes, downloadBytes } = command.data;
      if (uploadBytes + downloadBytes === 0 || model.recent.includes(reportId)) return [];
      model.recent = [...model.recent, reportId].slice(-recentReportCountMax);
      model.upload += uploadBytes;
      model.download += downloadBytes;
      if (model.exceeded || model.upload + model.download <= model.quota) return ['UsageRecorded'];
      model.exceeded = true;
      return ['UsageRecorded', 'QuotaExceeded'];
    }
  }
};

const bytes = fc.integer({ min: 0, max: 50 });
// Few ids, so retries (within and beyond the window), repeated grants and resets all happen.
const command: fc.Arbitrary<TrafficCommand> = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 400 }), bytes, bytes)
      .map(([index, upload, download]) => usage(`u-${index}`, upload, download)),
    weight: 8,
  },
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 100 }))
      .map(([index, quotaBytes]) => grant(`g-${index}`, quotaBytes)),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 100 }))
      .map(([index, quotaBytes]) => reset(`p-${index}`, quotaBytes)),
    weight: 1,
  },
);

/** Upload and download summed over the UsageRecorded events since the last QuotaReset. */
const sumSinceReset = (events: readonly TrafficEvent[]): { upload: number; download: number } => {
  const lastReset = events.map((event) => event.type).lastIndexOf('QuotaReset');
  return events.slice(lastReset + 1).reduce(
    (sum, event) =>
      event.type === 'UsageRecorded'
        ? {
            upload: sum.upload + event.data.uploadBytes,
            download: sum.download + event.data.downloadBytes,
          }
        : sum,
    { upload: 0, download: 0 },
  );
};

describe('traffic properties', () => {
  it('follows the reference model: totals are the sum of reports, one exceed per crossing; each state survives its snapshot', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 600 }), (commands) => {
        const model: Model = {
          quota: 0,
          upload: 0,
          download: 0,
          exceeded: false,
          applied: new Set(),
          recent: [],
        };
        let state = trafficAggregate.initialState;
        const emitted: TrafficEvent[] = [];
        for (const next of commands) {
          const decision = trafficAggregate.decide(next, state);
          const expected = expectedEvents(model, next);
          if (!decision.ok) {
            expect(trafficRejections).toContain(decision.rejection);
            expect(expected).toEqual([]);
            continue;
          }
          expect(decision.events.map((event) => event.type)).toEqual(expected);
          state = decision.events.reduce(trafficAggregate.evolve, state);
          emitted.push(...decision.events);
          expect(state).toMatchObject({
            quotaBytes: model.quota,
            uploadBytes: model.upload,
            downloadBytes: model.download,
            exceeded: model.exceeded,
          });
          expect(state.recentReportIds.length).toBeLessThanOrEqual(recentReportCountMax);
          const saved = JSON.parse(JSON.stringify(trafficSnapshotCodec.encode(state))) as JsonValue;
          expect(trafficSnapshotCodec.decode(saved)).toEqual(state);
        }
        const { upload, download } = sumSinceReset(emitted);
        expect({ uploadBytes: state.uploadBytes, downloadBytes: state.downloadBytes }).toEqual({
          uploadBytes: upload,
          downloadBytes: download,
        });
      }),
      { numRuns: 60 },
    );
  });
});

describe('traffic snapshot codec', () => {
  it.each([
    ['a negative count', { quotaBytes: -1 }, 'quotaBytes'],
    ['a report id that is not text', { recentReportIds: [7] }, 'recentReportIds'],
    ['exceeded that is not a boolean', { exceeded: 'yes' }, 'exceeded'],
  ])('refuses %s, naming the field', (_name, damage, message) => {
    const saved = {
      ...(trafficSnapshotCodec.encode(trafficAggregate.initialState) as object),
      ...damage,
    };
    expect(() => trafficSnapshotCodec.decode(saved as JsonValue)).toThrow(message);
  });
});
