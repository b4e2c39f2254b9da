import type { ContractContext } from './fixtures';
import { appended, conflict, expectIncreasing, newEvents, newStream, readWhole } from './fixtures';

/** append: every ExpectedRevision branch. */
export const appendCases = ({ store }: ContractContext): void => {
  it('appends to a new stream with no_stream: revisions from 0, positions increasing', async () => {
    const stream = newStream();
    const first = appended(
      await store().append(stream, newEvents(stream, 3), { kind: 'no_stream' }),
    );
    expect(first.lastRevision).toBe(2);
    const second = await store().append(stream, newEvents(stream, 2), {
      kind: 'exact',
      revision: 2,
    });
    expect(appended(second).lastRevision).toBe(4);
    const recorded = await readWhole(store(), stream);
    expect(recorded.map((event) => event.revision)).toEqual([0, 1, 2, 3, 4]);
    expectIncreasing(recorded.map((event) => event.position));
    expect(recorded[2]?.position).toBe(first.lastPosition);
    expect(recorded[4]?.position).toBe(appended(second).lastPosition);
  });

  it('refuses no_stream once the stream exists, writing nothing', async () => {
    const stream = newStream();
    await store().append(stream, newEvents(stream, 3), { kind: 'no_stream' });
    const result = await store().append(stream, newEvents(stream, 1), { kind: 'no_stream' });
    expect(result).toEqual(conflict(2));
    expect(await readWhole(store(), stream)).toHaveLength(3);
  });

  it('refuses an exact revision that is too low or too high', async () => {
    const stream = newStream();
    await store().append(stream, newEvents(stream, 3), { kind: 'no_stream' });
    const tooLow = await store().append(stream, newEvents(stream, 1), {
      kind: 'exact',
      revision: 1,
    });
    const tooHigh = await store().append(stream, newEvents(stream, 1), {
      kind: 'exact',
      revision: 3,
    });
    expect([tooLow, tooHigh]).toEqual([conflict(2), conflict(2)]);
    expect(await readWhole(store(), stream)).toHaveLength(3);
  });

  it('refuses an exact revision on a missing stream with revisionActual null', async () => {
    const stream = newStream();
    const result = await store().append(stream, newEvents(stream, 1), {
      kind: 'exact',
      revision: 0,
    });
    expect(result).toEqual(conflict(null));
    expect(await readWhole(store(), stream)).toEqual([]);
  });

  it('checks the expected revision of an empty append and writes nothing', async () => {
    const stream = newStream();
    await store().append(stream, newEvents(stream, 2), { kind: 'no_stream' });
    const matching = await store().append(stream, [], { kind: 'exact', revision: 1 });
    expect(matching).toMatchObject({ ok: true, lastRevision: 1 });
    await expect(store().append(stream, [], { kind: 'exact', revision: 0 })).resolves.toEqual(
      conflict(1),
    );
    await expect(store().append(stream, [], { kind: 'no_stream' })).resolves.toEqual(conflict(1));
    expect(await readWhole(store(), stream)).toHaveLength(2);
  });
};

/** Retries: the same ids right after `expected` are the same append, anything else conflicts. */
export const idempotentAppendCases = ({ store }: ContractContext): void => {
  it('returns the original result for the same ids re-appended at the same revision', async () => {
    const stream = newStream();
    const opening = newEvents(stream, 2);
    const next = newEvents(stream, 2);
    const first = await store().append(stream, opening, { kind: 'no_stream' });
    const second = await store().append(stream, next, { kind: 'exact', revision: 1 });
    await expect(store().append(stream, opening, { kind: 'no_stream' })).resolves.toEqual(first);
    await expect(store().append(stream, next, { kind: 'exact', revision: 1 })).resolves.toEqual(
      second,
    );
    const ids = (await readWhole(store(), stream)).map((event) => event.id);
    expect(ids).toEqual([...opening, ...next].map((event) => event.id));
  });

  it('takes the ids right after `expected` as a retry, anything else as a conflict', async () => {
    const stream = newStream();
    const [a, b, c] = newEvents(stream, 3);
    if (!a || !b || !c) throw new Error('fixture');
    await store().append(stream, [a, b, c], { kind: 'no_stream' });
    const tail = await store().append(stream, [b, c], { kind: 'exact', revision: 0 });
    expect(appended(tail).lastRevision).toBe(2);
    const shifted = await store().append(stream, [a, b], { kind: 'exact', revision: 0 });
    const partial = await store().append(stream, [b, ...newEvents(stream, 1)], {
      kind: 'exact',
      revision: 0,
    });
    const reordered = await store().append(stream, [b, a], { kind: 'no_stream' });
    expect([shifted, partial, reordered]).toEqual([conflict(2), conflict(2), conflict(2)]);
    expect(await readWhole(store(), stream)).toHaveLength(3);
  });
};

/** Many writers at once: distinct positions, and exactly one winner per revision. */
export const concurrentAppendCases = ({ store }: ContractContext): void => {
  it('commits 200 concurrent appends to different streams at distinct positions', async () => {
    const streams = Array.from({ length: 200 }, newStream);
    const results = await Promise.all(
      streams.map((stream) => store().append(stream, newEvents(stream, 1), { kind: 'no_stream' })),
    );
    const positions = results.map((result) => appended(result).lastPosition);
    expect(new Set(positions).size).toBe(200);
    const firsts = await Promise.all(streams.map((stream) => readWhole(store(), stream)));
    expect(firsts.map((recorded) => recorded[0]?.position)).toEqual(positions);
  });

  it('lets exactly one of many concurrent appends at the same revision win', async () => {
    const stream = newStream();
    await store().append(stream, newEvents(stream, 1), { kind: 'no_stream' });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        store().append(stream, newEvents(stream, 2), { kind: 'exact', revision: 0 }),
      ),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.filter((result) => !result.ok)).toEqual(
      Array.from({ length: 19 }, () => conflict(2)),
    );
    expect(await readWhole(store(), stream)).toHaveLength(3);
  });

  it('lets exactly one of many concurrent no_stream appends create the stream', async () => {
    const stream = newStream();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        store().append(stream, newEvents(stream, 1), { kind: 'no_stream' }),
      ),
    );
    expect(results.filter((result) => result.ok)).toEqual([
      { ok: true, lastRevision: 0, lastPosition: expect.any(BigInt) },
    ]);
    expect(await readWhole(store(), stream)).toHaveLength(1);
  });
};
