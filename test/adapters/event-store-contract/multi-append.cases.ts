import type { ContractContext } from './fixtures';
import {
  follow,
  multiAppended,
  newEvents,
  newRecord,
  newScope,
  newStream,
  readWhole,
  revisionConflicts,
} from './fixtures';

const ids = (events: readonly { id: string }[]): string[] => events.map((event) => event.id);

/** appendMulti: several streams, each at its expected revision, in one atomic commit. */
export const multiAppendCases = ({ store }: ContractContext): void => {
  it('writes every stream at consecutive positions in the order given', async () => {
    const [left, middle, right] = [newStream(), newStream(), newStream()];
    const opening = newEvents(middle, 1);
    await store().append(middle, opening, { kind: 'no_stream' });
    const sent = [newEvents(left, 2), newEvents(middle, 3), newEvents(right, 1)] as const;
    const result = multiAppended(
      await store().appendMulti(
        [
          { stream: left, events: sent[0], expected: { kind: 'no_stream' } },
          { stream: middle, events: sent[1], expected: { kind: 'exact', revision: 0 } },
          { stream: right, events: sent[2], expected: { kind: 'no_stream' } },
        ],
        [],
      ),
    );
    const stored = await Promise.all([left, middle, right].map((s) => readWhole(store(), s)));
    expect(stored.map(ids)).toEqual([ids(sent[0]), ids([...opening, ...sent[1]]), ids(sent[2])]);
    expect(result.streams).toEqual(
      stored.map((events) => ({
        stream: events[0]?.stream,
        lastRevision: events.length - 1,
        lastPosition: events.at(-1)?.position,
      })),
    );
    expect(result.lastPosition).toBe(stored[2]?.[0]?.position);

    const first = stored[0]?.[0];
    if (first === undefined) throw new Error('fixture');
    const rest = await store().readAll({ afterPosition: first.position, eventCountMax: 5 });
    expect(ids(rest)).toEqual(ids([...sent[0], ...sent[1], ...sent[2]]).slice(1));
  });

  it('writes nothing anywhere when one stream is not at its expected revision', async () => {
    const [fresh, behind, missing, other] = [newStream(), newStream(), newStream(), newStream()];
    await store().append(behind, newEvents(behind, 2), { kind: 'no_stream' });
    const result = await store().appendMulti(
      [
        { stream: fresh, events: newEvents(fresh, 2), expected: { kind: 'no_stream' } },
        { stream: behind, events: newEvents(behind, 1), expected: { kind: 'exact', revision: 0 } },
        {
          stream: missing,
          events: newEvents(missing, 1),
          expected: { kind: 'exact', revision: 0 },
        },
        { stream: other, events: newEvents(other, 1), expected: { kind: 'no_stream' } },
      ],
      [],
    );
    expect(result).toEqual(
      revisionConflicts(
        { stream: behind, revisionActual: 1 },
        { stream: missing, revisionActual: null },
      ),
    );
    const stored = await Promise.all(
      [fresh, behind, missing, other].map((s) => readWhole(store(), s)),
    );
    expect(stored.map((events) => events.length)).toEqual([0, 2, 0, 0]);
  });

  it('checks no_stream and exact revisions, too low, too high or on a missing stream', async () => {
    const [existing, missing] = [newStream(), newStream()];
    await store().append(existing, newEvents(existing, 3), { kind: 'no_stream' });
    const appendTo = (
      stream: string,
      expected: { kind: 'exact'; revision: number } | { kind: 'no_stream' },
    ) => store().appendMulti([{ stream, events: newEvents(stream, 1), expected }], []);
    const refused = [
      await appendTo(existing, { kind: 'no_stream' }),
      await appendTo(existing, { kind: 'exact', revision: 1 }),
      await appendTo(existing, { kind: 'exact', revision: 3 }),
      await appendTo(missing, { kind: 'exact', revision: 0 }),
    ];
    expect(refused).toEqual([
      revisionConflicts({ stream: existing, revisionActual: 2 }),
      revisionConflicts({ stream: existing, revisionActual: 2 }),
      revisionConflicts({ stream: existing, revisionActual: 2 }),
      revisionConflicts({ stream: missing, revisionActual: null }),
    ]);
    const accepted = multiAppended(await appendTo(existing, { kind: 'exact', revision: 2 }));
    expect(accepted.streams).toEqual([
      { stream: existing, lastRevision: 3, lastPosition: accepted.lastPosition },
    ]);
    expect(await readWhole(store(), existing)).toHaveLength(4);
    expect(await readWhole(store(), missing)).toEqual([]);
  });

  it('uses a stream without events as a guard: checked, never written', async () => {
    const [guard, absent, first, second] = [newStream(), newStream(), newStream(), newStream()];
    await store().append(guard, newEvents(guard, 1), { kind: 'no_stream' });
    const guarded = multiAppended(
      await store().appendMulti(
        [
          { stream: guard, events: [], expected: { kind: 'exact', revision: 0 } },
          { stream: absent, events: [], expected: { kind: 'no_stream' } },
          { stream: first, events: newEvents(first, 2), expected: { kind: 'no_stream' } },
        ],
        [],
      ),
    );
    const [firstLast] = await store().readStream(first, {
      fromRevision: 'end',
      direction: 'backwards',
      eventCountMax: 1,
    });
    expect(guarded).toEqual({
      ok: true,
      streams: [
        { stream: guard, lastRevision: 0, lastPosition: firstLast?.position },
        { stream: absent, lastRevision: -1, lastPosition: firstLast?.position },
        { stream: first, lastRevision: 1, lastPosition: firstLast?.position },
      ],
      lastPosition: firstLast?.position,
    });

    await store().append(guard, newEvents(guard, 1), { kind: 'exact', revision: 0 });
    const stale = await store().appendMulti(
      [
        { stream: guard, events: [], expected: { kind: 'exact', revision: 0 } },
        { stream: second, events: newEvents(second, 1), expected: { kind: 'no_stream' } },
      ],
      [],
    );
    expect(stale).toEqual(revisionConflicts({ stream: guard, revisionActual: 1 }));
    expect(await readWhole(store(), second)).toEqual([]);
    expect(await readWhole(store(), guard)).toHaveLength(2);
    expect(await readWhole(store(), absent)).toEqual([]);
  });

  it('answers a retry of the same ids with the first result, writing nothing again', async () => {
    const [left, right] = [newStream(), newStream()];
    await store().append(right, newEvents(right, 1), { kind: 'no_stream' });
    const appends = [
      { stream: left, events: newEvents(left, 2), expected: { kind: 'no_stream' } },
      { stream: right, events: newEvents(right, 2), expected: { kind: 'exact', revision: 0 } },
    ] as const;
    const first = multiAppended(await store().appendMulti(appends, []));
    await expect(store().appendMulti(appends, [])).resolves.toEqual(first);
    // Later appends do not change what the retry of the first one answers.
    await store().append(left, newEvents(left, 1), { kind: 'exact', revision: 1 });
    await expect(store().appendMulti(appends, [])).resolves.toEqual(first);
    expect(await readWhole(store(), left)).toHaveLength(3);
    expect(await readWhole(store(), right)).toHaveLength(3);
  });

  it('refuses a retry whose stored events differ, or that is one only in part', async () => {
    const [stream, fresh] = [newStream(), newStream()];
    const [a, b, c] = newEvents(stream, 3);
    if (!a || !b || !c) throw new Error('fixture');
    await store().appendMulti([{ stream, events: [a, b], expected: { kind: 'no_stream' } }], []);
    const reordered = await store().appendMulti(
      [{ stream, events: [b, a], expected: { kind: 'no_stream' } }],
      [],
    );
    const changed = await store().appendMulti(
      [{ stream, events: [a, c], expected: { kind: 'no_stream' } }],
      [],
    );
    const partly = await store().appendMulti(
      [
        { stream, events: [a, b], expected: { kind: 'no_stream' } },
        { stream: fresh, events: newEvents(fresh, 1), expected: { kind: 'no_stream' } },
      ],
      [],
    );
    // The same ids, but another writer's events (other content, so another hash).
    const otherWriters = [a, b].map((event) => ({
      ...event,
      data: { ...event.data, writer: 'other' },
      metadata: { ...event.metadata, hash: 'f'.repeat(64) },
    }));
    const sameIds = await store().appendMulti(
      [{ stream, events: otherWriters, expected: { kind: 'no_stream' } }],
      [],
    );
    const withRecord = await store().appendMulti(
      [{ stream, events: [a, b], expected: { kind: 'no_stream' } }],
      [newRecord(newScope(), 'retry-key', Date.now())],
    );
    const conflict = revisionConflicts({ stream, revisionActual: 1 });
    expect([reordered, changed, sameIds, partly, withRecord]).toEqual([
      conflict,
      conflict,
      conflict,
      conflict,
      conflict,
    ]);
    expect(ids(await readWhole(store(), stream))).toEqual(ids([a, b]));
    expect(await readWhole(store(), fresh)).toEqual([]);
  });

  it('throws when one stream appears twice: a caller bug', async () => {
    const stream = newStream();
    const twice = store().appendMulti(
      [
        { stream, events: newEvents(stream, 1), expected: { kind: 'no_stream' } },
        { stream, events: newEvents(stream, 1), expected: { kind: 'exact', revision: 0 } },
      ],
      [],
    );
    await expect(twice).rejects.toThrow(Error);
    expect(await readWhole(store(), stream)).toEqual([]);
  });

  it('delivers a multi-stream append to a subscriber whole and in order', async () => {
    const [left, right] = [newStream(), newStream()];
    const sent = [newEvents(left, 2), newEvents(right, 3)] as const;
    const subscription = store().subscribeToAll({ afterPosition: await store().headPosition() });
    const mine = follow(subscription, (event) => event.stream === left || event.stream === right);
    await store().appendMulti(
      [
        { stream: left, events: sent[0], expected: { kind: 'no_stream' } },
        { stream: right, events: sent[1], expected: { kind: 'no_stream' } },
      ],
      [],
    );
    await mine.until(5);
    await subscription.close();
    await mine.ended();
    expect(ids(mine.received)).toEqual(ids([...sent[0], ...sent[1]]));
    expect(mine.received.map((event) => event.revision)).toEqual([0, 1, 0, 1, 2]);
  });
};

/** Idempotency-Key records: committed with the events, unique per (scope, key), purged by age. */
export const idempotencyRecordCases = ({ store, options }: ContractContext): void => {
  it('stores a record at the position of the append, readable by scope and key', async () => {
    const [stream, scope] = [newStream(), newScope()];
    const record = newRecord(scope, 'key-1', Date.now());
    const result = multiAppended(
      await store().appendMulti(
        [{ stream, events: newEvents(stream, 2), expected: { kind: 'no_stream' } }],
        [record],
      ),
    );
    const [last] = await store().readStream(stream, {
      fromRevision: 'end',
      direction: 'backwards',
      eventCountMax: 1,
    });
    expect(result.lastPosition).toBe(last?.position);
    await expect(store().readIdempotencyRecord(scope, 'key-1')).resolves.toEqual({
      ...record,
      position: result.lastPosition,
    });
    await expect(store().readIdempotencyRecord(scope, 'key-2')).resolves.toBeNull();
    await expect(store().readIdempotencyRecord(newScope(), 'key-1')).resolves.toBeNull();
  });

  it('stores a record with an append of no event at the position it answers', async () => {
    const [guard, scope] = [newStream(), newScope()];
    await store().append(guard, newEvents(guard, 1), { kind: 'no_stream' });
    const record = newRecord(scope, 'key-1', Date.now());
    const result = multiAppended(
      await store().appendMulti(
        [{ stream: guard, events: [], expected: { kind: 'exact', revision: 0 } }],
        [record],
      ),
    );
    expect(result.streams).toEqual([
      { stream: guard, lastRevision: 0, lastPosition: result.lastPosition },
    ]);
    await expect(store().readIdempotencyRecord(scope, 'key-1')).resolves.toEqual({
      ...record,
      position: result.lastPosition,
    });
    expect(await readWhole(store(), guard)).toHaveLength(1);
  });

  it('refuses a key already stored in its scope with the stored record, writing nothing', async () => {
    const [first, second, third, scope] = [newStream(), newStream(), newStream(), newScope()];
    const record = newRecord(scope, 'key-1', Date.now());
    const result = multiAppended(
      await store().appendMulti(
        [{ stream: first, events: newEvents(first, 1), expected: { kind: 'no_stream' } }],
        [record],
      ),
    );
    const stored = { ...record, position: result.lastPosition };
    const again = await store().appendMulti(
      [{ stream: second, events: newEvents(second, 1), expected: { kind: 'no_stream' } }],
      [newRecord(scope, 'key-2', Date.now()), { ...record, fingerprint: 'another body' }],
    );
    expect(again).toEqual({ ok: false, reason: 'idempotency_key_exists', existing: [stored] });
    expect(await readWhole(store(), second)).toEqual([]);
    await expect(store().readIdempotencyRecord(scope, 'key-2')).resolves.toBeNull();
    await expect(store().readIdempotencyRecord(scope, 'key-1')).resolves.toEqual(stored);

    const staleAndKnown = await store().appendMulti(
      [{ stream: first, events: newEvents(first, 1), expected: { kind: 'no_stream' } }],
      [record],
    );
    expect(staleAndKnown).toEqual(revisionConflicts({ stream: first, revisionActual: 0 }));

    const otherScope = newScope();
    const elsewhere = multiAppended(
      await store().appendMulti(
        [{ stream: third, events: newEvents(third, 1), expected: { kind: 'no_stream' } }],
        [newRecord(otherScope, 'key-1', Date.now())],
      ),
    );
    await expect(store().readIdempotencyRecord(otherScope, 'key-1')).resolves.toMatchObject({
      scope: otherScope,
      position: elsewhere.lastPosition,
    });
  });

  it('purges the records created before the cutoff only, and counts them', async () => {
    const [stream, scope] = [newStream(), newScope()];
    const cutoffMs = 3_000; // Long past: on a shared server only such test records are this old.
    const records = [
      newRecord(scope, 'old-1', 1_000),
      newRecord(scope, 'old-2', cutoffMs - 1),
      newRecord(scope, 'at-cutoff', cutoffMs),
      newRecord(scope, 'recent', Date.now()),
    ];
    await store().appendMulti(
      [{ stream, events: newEvents(stream, 1), expected: { kind: 'no_stream' } }],
      records,
    );
    const purged = await store().purgeIdempotencyRecords(cutoffMs);
    if (options.sharedLog) expect(purged).toBeGreaterThanOrEqual(2);
    else expect(purged).toBe(2);
    const left = await Promise.all(
      records.map((record) => store().readIdempotencyRecord(scope, record.key)),
    );
    expect(left.map((record) => record?.key ?? null)).toEqual([null, null, 'at-cutoff', 'recent']);
    if (!options.sharedLog) expect(await store().purgeIdempotencyRecords(cutoffMs)).toBe(0);
    expect(await readWhole(store(), stream)).toHaveLength(1);
  });
};
