import {
  groupedUsageOf,
  isParsedReport,
  readReportBytes,
  type GroupedUsage,
  type ReportBody,
} from '../../api/routes/traffic-report';
import { trafficShardOf, type UsageRecord } from '../../domain/traffic/traffic.decider';

/** A seeded generator: the same bodies on every run. */
const randomFrom = (seed: number) => {
  let state = seed >>> 0;
  return (below: number): number => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % below;
  };
};

const recordsOf = (seed: number, count: number, userCount: number): UsageRecord[] => {
  const random = randomFrom(seed);
  return Array.from({ length: count }, () => ({
    userId: `user-${random(userCount)}`,
    uploadBytes: random(4) === 0 ? 0 : random(1_000_000),
    downloadBytes: random(10_000_000),
  }));
};

const bytesOf = (text: string): Buffer => Buffer.from(text, 'utf8');

/** The grouping as the route made it before the parser (a Map per report), for comparison. */
const referenceGrouping = (records: readonly UsageRecord[]): GroupedUsage => {
  const byUser = new Map<string, UsageRecord>();
  const overflowedUsers = new Set<string>();
  for (const record of records) {
    const known = byUser.get(record.userId);
    if (known === undefined) {
      byUser.set(record.userId, record);
      continue;
    }
    const uploadBytes = known.uploadBytes + record.uploadBytes;
    const downloadBytes = known.downloadBytes + record.downloadBytes;
    if (Number.isSafeInteger(uploadBytes) && Number.isSafeInteger(downloadBytes))
      byUser.set(record.userId, { userId: record.userId, uploadBytes, downloadBytes });
    else overflowedUsers.add(record.userId);
  }
  const shards: GroupedUsage['shards'] = [];
  const byShard = new Map<string, UsageRecord[]>();
  for (const usage of byUser.values()) {
    const shardId = trafficShardOf(usage.userId);
    let list = byShard.get(shardId);
    if (list === undefined) {
      list = [];
      byShard.set(shardId, list);
    }
    if (usage.uploadBytes + usage.downloadBytes > 0 && !overflowedUsers.has(usage.userId))
      list.push(usage);
  }
  for (const [shardId, usages] of byShard) if (usages.length > 0) shards.push({ shardId, usages });
  const overflowed = [...byUser.keys()].filter((userId) => overflowedUsers.has(userId));
  return { shards, overflowed };
};

describe('readReportBytes: a report body read from its bytes', () => {
  it.each([
    ['compact', (body: ReportBody) => JSON.stringify(body)],
    ['indented', (body: ReportBody) => JSON.stringify(body, null, 2)],
    [
      'tabs and CRLF',
      (body: ReportBody) => JSON.stringify(body, null, '\t').replace(/\n/g, '\r\n'),
    ],
    [
      'keys in another order',
      (body: ReportBody) =>
        JSON.stringify({
          records: body.records.map(({ userId, uploadBytes, downloadBytes }) => ({
            downloadBytes,
            userId,
            uploadBytes,
          })),
          reportId: body.reportId,
        }),
    ],
  ])('reads a %s body as JSON.parse does, grouped as before', (_name, write) => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const body = { reportId: `r-${seed}`, records: recordsOf(seed, 1 + seed * 37, 300) };
      const text = write(body);
      const read = readReportBytes(bytesOf(text));
      expect(read && { reportId: read.reportId, records: read.records }).toEqual(JSON.parse(text));
      expect(read !== null && isParsedReport(read)).toBe(true);
      const grouped = groupedUsageOf(read as ReportBody);
      expect(grouped).toEqual(referenceGrouping(body.records));
      // The fallback's grouping (from JSON.parse's objects) is the same.
      expect(groupedUsageOf(JSON.parse(text) as ReportBody)).toEqual(grouped);
    }
  });

  it('groups duplicates, zero usage and overflow as the route did', () => {
    const big = Number.MAX_SAFE_INTEGER - 5;
    const records = [
      { userId: 'a', uploadBytes: 1, downloadBytes: 2 },
      { userId: 'zero', uploadBytes: 0, downloadBytes: 0 },
      { userId: 'over', uploadBytes: big, downloadBytes: 0 },
      { userId: 'a', uploadBytes: 10, downloadBytes: 20 },
      { userId: 'over', uploadBytes: big, downloadBytes: 0 },
      { userId: 'b', uploadBytes: 3, downloadBytes: 0 },
      { userId: 'over', uploadBytes: 1, downloadBytes: 0 },
      { userId: 'zero', uploadBytes: 0, downloadBytes: 0 },
    ];
    const read = readReportBytes(bytesOf(JSON.stringify({ reportId: 'r', records })));
    expect(read).not.toBeNull();
    const grouped = groupedUsageOf(read as ReportBody);
    expect(grouped.overflowed).toEqual(['over']);
    const usages = grouped.shards.flatMap((shard) => shard.usages);
    expect(usages).toEqual(
      expect.arrayContaining([
        { userId: 'a', uploadBytes: 11, downloadBytes: 22 },
        { userId: 'b', uploadBytes: 3, downloadBytes: 0 },
      ]),
    );
    expect(usages).toHaveLength(2);
    expect(grouped).toEqual(referenceGrouping(records));
  });

  it('tells apart many users of one report (the hash table probes past collisions)', () => {
    const records = recordsOf(7, 10_000, 20_000);
    const text = JSON.stringify({ reportId: 'r-many', records });
    const grouped = groupedUsageOf(readReportBytes(bytesOf(text)) as ReportBody);
    expect(grouped).toEqual(referenceGrouping(records));
    // The table is clean for the next report: the same body grouped again gives the same.
    expect(groupedUsageOf(readReportBytes(bytesOf(text)) as ReportBody)).toEqual(grouped);
  });

  const record = '{"userId":"u1","uploadBytes":1,"downloadBytes":2}';
  it.each([
    ['malformed JSON (truncated)', `{"reportId":"r","records":[${record}`],
    ['malformed JSON (trailing text)', `{"reportId":"r","records":[${record}]} x`],
    ['an empty record list', '{"reportId":"r","records":[]}'],
    ['a record list that is not an array', '{"reportId":"r","records":{}}'],
    ['a missing reportId', `{"records":[${record}]}`],
    ['a duplicate key', `{"reportId":"r","reportId":"s","records":[${record}]}`],
    [
      'a duplicate record key',
      '{"reportId":"r","records":[{"userId":"u","userId":"v","uploadBytes":1,"downloadBytes":2}]}',
    ],
    ['an unknown top-level key', `{"reportId":"r","records":[${record}],"x":1}`],
    [
      'an unknown record key',
      '{"reportId":"r","records":[{"userId":"u","uploadBytes":1,"downloadBytes":2,"x":1}]}',
    ],
    ['a missing record key', '{"reportId":"r","records":[{"userId":"u","uploadBytes":1}]}'],
    [
      'an escaped key',
      '{"reportId":"r","records":[{"user\\u0049d":"u","uploadBytes":1,"downloadBytes":2}]}',
    ],
    [
      'an escape in an id',
      '{"reportId":"r","records":[{"userId":"\\u0075","uploadBytes":1,"downloadBytes":2}]}',
    ],
    [
      'a non-ASCII id',
      '{"reportId":"r","records":[{"userId":"ü","uploadBytes":1,"downloadBytes":2}]}',
    ],
    [
      'an id with a space',
      '{"reportId":"r","records":[{"userId":"a b","uploadBytes":1,"downloadBytes":2}]}',
    ],
    ['an empty id', '{"reportId":"r","records":[{"userId":"","uploadBytes":1,"downloadBytes":2}]}'],
    [
      'an id of 65 characters',
      `{"reportId":"r","records":[{"userId":"${'u'.repeat(65)}","uploadBytes":1,"downloadBytes":2}]}`,
    ],
    [
      'a userId that is a number',
      '{"reportId":"r","records":[{"userId":1,"uploadBytes":1,"downloadBytes":2}]}',
    ],
    [
      'a count as a string',
      '{"reportId":"r","records":[{"userId":"u","uploadBytes":"1","downloadBytes":2}]}',
    ],
    [
      'a fraction',
      '{"reportId":"r","records":[{"userId":"u","uploadBytes":1.5,"downloadBytes":2}]}',
    ],
    [
      'an integer written 1.0',
      '{"reportId":"r","records":[{"userId":"u","uploadBytes":1.0,"downloadBytes":2}]}',
    ],
    [
      'an exponent',
      '{"reportId":"r","records":[{"userId":"u","uploadBytes":1e3,"downloadBytes":2}]}',
    ],
    [
      'a negative count',
      '{"reportId":"r","records":[{"userId":"u","uploadBytes":-1,"downloadBytes":2}]}',
    ],
    [
      'a leading zero',
      '{"reportId":"r","records":[{"userId":"u","uploadBytes":01,"downloadBytes":2}]}',
    ],
    ['null', '{"reportId":"r","records":[{"userId":"u","uploadBytes":null,"downloadBytes":2}]}'],
    [
      'a count past the safe range',
      '{"reportId":"r","records":[{"userId":"u","uploadBytes":9007199254740992,"downloadBytes":2}]}',
    ],
    ['a byte-order mark', `\ufeff{"reportId":"r","records":[${record}]}`],
    [
      'too many records',
      `{"reportId":"r","records":[${Array.from({ length: 10_001 }, () => record).join(',')}]}`,
    ],
  ])('leaves %s to JSON.parse and the schema (null)', (_name, text) => {
    expect(readReportBytes(bytesOf(text))).toBeNull();
  });

  it('reads the largest safe count and exactly 10,000 records', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const records = Array.from({ length: 10_000 }, (_, index) => ({
      userId: `u${index}`,
      uploadBytes: index === 0 ? max : 0,
      downloadBytes: 1,
    }));
    const text = JSON.stringify({ reportId: 'r', records });
    const read = readReportBytes(bytesOf(text));
    expect(read && { reportId: read.reportId, records: read.records }).toEqual(JSON.parse(text));
  });

  it('does not take a body JSON.parse produced for one it read', () => {
    expect(isParsedReport(JSON.parse(`{"reportId":"r","records":[${record}]}`))).toBe(false);
  });
});
