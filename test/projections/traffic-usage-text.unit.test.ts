import fc from 'fast-check';
import { storedDataText } from '../../domain/event-chain';
import type { JsonObject, RecordedEvent } from '../../domain/ports/event-store.port';
import { trafficEventCodec } from '../../domain/traffic/traffic.events';
import { trafficUserHashOf, type UsageRecord } from '../../domain/traffic/traffic.model';
import { readTrafficEvent, type ReadTrafficEvent } from '../../projections/traffic-usage-text';

/**
 * A version-2 report's usages decoded from its stored text must be what the traffic codec reads
 * from the parsed JSON, field for field, and a text the decoder does not take whole goes to the
 * codec: the two paths agree on every text, refusing the same ones.
 */
const storedEvent = (text: string, withText: boolean): RecordedEvent => {
  let data: JsonObject | null = null;
  const event = {
    id: 'e-1',
    type: 'UsageReported',
    stream: 'trafficshard-03',
    revision: 4,
    position: 17n,
    metadata: {
      correlationId: 'c',
      causationId: null,
      actor: { clientId: 'node-1', role: 'node', ip: null },
      idempotencyKey: null,
      occurredAt: '2026-12-07T00:00:00.000Z',
      schemaVersion: 2,
      hash: 'h',
    },
    get data(): JsonObject {
      data ??= JSON.parse(text) as JsonObject;
      return data;
    },
  };
  return withText ? Object.assign(event, { dataText: text }) : event;
};

const reportText = (usages: UsageRecord[], reportId = 'r-1', nodeId = 'node-1'): string =>
  storedDataText(
    trafficEventCodec.encode({
      type: 'UsageReported',
      data: {
        reportId,
        nodeId,
        usages,
        refused: [{ userId: 'u-x', reason: 'usage_overflow' }],
        recordedAt: '2026-12-07T00:00:00.000Z',
      },
    }),
  );

/** What the fold sees of a read event: its fields but usages, and its usages as columns. */
const seen = ({ domainEvent, usages }: ReadTrafficEvent) => ({
  type: domainEvent.type,
  fields: { ...domainEvent.data, usages: null },
  usages:
    usages === null
      ? null
      : {
          userIds: usages.userIds,
          userHashes: [...usages.userHashes],
          uploadBytes: [...usages.uploadBytes],
          downloadBytes: [...usages.downloadBytes],
        },
});

/** The read through the text and through the codec alone: the same answer or the same refusal. */
const bothReads = (text: string): { fast: unknown; codec: unknown } => {
  const outcome = (withText: boolean): unknown => {
    try {
      return seen(readTrafficEvent(storedEvent(text, withText)));
    } catch (error) {
      return { refused: error instanceof Error ? error.name : String(error) };
    }
  };
  return { fast: outcome(true), codec: outcome(false) };
};

const usageArbitrary = fc.record({
  userId: fc.string({ unit: 'binary', maxLength: 12 }),
  uploadBytes: fc.oneof(fc.nat(), fc.maxSafeNat()),
  downloadBytes: fc.oneof(fc.nat(), fc.maxSafeNat()),
});

describe('a traffic report read from its stored text', () => {
  it('reads every usage as the codec does, the rest of the event through the codec', () => {
    const usages = [
      { userId: 'user-1', uploadBytes: 0, downloadBytes: Number.MAX_SAFE_INTEGER },
      { userId: 'user-2', uploadBytes: 10, downloadBytes: 7 },
    ];
    const read = readTrafficEvent(storedEvent(reportText(usages), true));
    expect(read.domainEvent).toEqual({
      type: 'UsageReported',
      data: {
        reportId: 'r-1',
        nodeId: 'node-1',
        usages: [],
        refused: [{ userId: 'u-x', reason: 'usage_overflow' }],
        recordedAt: '2026-12-07T00:00:00.000Z',
      },
    });
    expect(seen(read).usages).toEqual({
      userIds: ['user-1', 'user-2'],
      userHashes: [trafficUserHashOf('user-1'), trafficUserHashOf('user-2')],
      uploadBytes: [0, 10],
      downloadBytes: [Number.MAX_SAFE_INTEGER, 7],
    });
    const { fast, codec } = bothReads(reportText(usages));
    expect(fast).toEqual(codec);
  });

  it('agrees with the codec on any report, any ids (quotes, escapes, any unit)', () => {
    fc.assert(
      fc.property(
        fc.array(usageArbitrary, { maxLength: 20 }),
        fc.string({ unit: 'binary', maxLength: 6 }),
        (usages, reportId) => {
          const { fast, codec } = bothReads(reportText(usages, reportId, `${reportId}"`));
          expect(fast).toEqual(codec);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with the codec on texts out of the encoder form, refusing the same ones', () => {
    const base = reportText([
      { userId: 'a', uploadBytes: 1, downloadBytes: 2 },
      { userId: 'b', uploadBytes: 30, downloadBytes: 0 },
    ]);
    const texts = [
      base.replace('1,2', '1.0,2'),
      base.replace('1,2', '1e0,2'),
      base.replace('1,2', '01,2'),
      base.replace('1,2', '-1,2'),
      base.replace('1,2', '9007199254740992,2'),
      base.replace('1,2', '1, 2'),
      base.replace('["a"', '[1'),
      base.replace('["a",1,2]', '["a",1,2,3]'),
      base.replace('["a",1,2]', '["a",1]'),
      base.replace('"refused"', '"usages":[],"refused"'),
      base.replace('"refused"', '"usages":[["c",5,5]],"refused"'),
      base.replace('"refused"', '"reportId":"r-2","refused"'),
      base.replace('"refused"', '"nodeId":"n-2","refused"'),
      base.slice(0, -1),
      `${base} `,
    ];
    for (const text of texts) {
      const { fast, codec } = bothReads(text);
      expect({ text, read: fast }).toEqual({ text, read: codec });
    }
    // Seven are refused: malformed JSON (the last but one), or a usage the codec does not accept.
    expect(texts.filter((text) => 'refused' in (bothReads(text).codec as object))).toHaveLength(7);
  });

  it('agrees with the codec on a report text with any one character changed', () => {
    const base = reportText([
      { userId: 'user-7', uploadBytes: 123, downloadBytes: 45 },
      { userId: 'user-8', uploadBytes: 0, downloadBytes: 6 },
    ]);
    fc.assert(
      fc.property(
        fc.nat({ max: base.length - 1 }),
        fc.constantFrom('"', '\\', ',', '[', ']', '0', '9', ' ', '-', 'x', '{', '}', '.'),
        (at, character) => {
          const { fast, codec } = bothReads(base.slice(0, at) + character + base.slice(at + 1));
          expect(fast).toEqual(codec);
        },
      ),
      { numRuns: 500 },
    );
  });
});
