import { EMPTY_CHAIN, verifyChain } from '../../../domain/event-chain';
import type { EventStore, ReadDirection } from '../../../domain/ports/event-store.port';
import type { ContractContext } from './fixtures';
import { appended, expectIncreasing, newEvents, newStream, readWhole, seal } from './fixtures';

const revisionsRead = async (
  store: EventStore,
  stream: string,
  fromRevision: number | 'end',
  direction: ReadDirection,
  eventCountMax: number,
): Promise<number[]> =>
  (await store.readStream(stream, { fromRevision, direction, eventCountMax })).map(
    (e) => e.revision,
  );

/** readStream, and what a round trip must preserve. */
export const streamReadCases = ({ store }: ContractContext): void => {
  it('reads a stream both ways from any revision, bounded by eventCountMax', async () => {
    const stream = newStream();
    await store().append(stream, newEvents(stream, 5), { kind: 'no_stream' });
    const read = (from: number | 'end', direction: ReadDirection, max: number) =>
      revisionsRead(store(), stream, from, direction, max);
    expect(await read(0, 'forwards', 10)).toEqual([0, 1, 2, 3, 4]);
    expect(await read(2, 'forwards', 2)).toEqual([2, 3]);
    expect(await read(3, 'forwards', 10)).toEqual([3, 4]);
    expect(await read(5, 'forwards', 10)).toEqual([]);
    expect(await read('end', 'forwards', 10)).toEqual([]);
    expect(await read('end', 'backwards', 10)).toEqual([4, 3, 2, 1, 0]);
    expect(await read('end', 'backwards', 1)).toEqual([4]);
    expect(await read(3, 'backwards', 2)).toEqual([3, 2]);
    expect(await read(1, 'backwards', 10)).toEqual([1, 0]);
  });

  it('reads a missing stream as empty in both directions', async () => {
    const stream = newStream();
    expect(await revisionsRead(store(), stream, 0, 'forwards', 10)).toEqual([]);
    expect(await revisionsRead(store(), stream, 'end', 'backwards', 10)).toEqual([]);
  });

  it('round-trips data and metadata exactly, hash included', async () => {
    const stream = newStream();
    const sent = newEvents(stream, 3);
    const result = appended(await store().append(stream, sent, { kind: 'no_stream' }));
    const recorded = await readWhole(store(), stream);
    const expected = sent.map((event, revision) => ({
      ...event,
      stream,
      revision,
      position: expect.any(BigInt),
    }));
    expect(recorded).toEqual(expected);
    expect(recorded[2]?.position).toBe(result.lastPosition);
  });
};

/** The hash chain, readAll and headPosition. */
export const globalLogCases = ({ store, options }: ContractContext): void => {
  it('keeps the hash chain verifiable across appends', async () => {
    const stream = newStream();
    const first = seal(stream, 3);
    const second = seal(stream, 2, first.tail);
    await store().append(stream, first.events, { kind: 'no_stream' });
    await store().append(stream, second.events, { kind: 'exact', revision: 2 });
    const verdict = verifyChain(EMPTY_CHAIN, await readWhole(store(), stream));
    expect(verdict).toEqual({ ok: true, tail: second.tail });
  });

  it('reads the global log in append order, after a position (exclusive), bounded', async () => {
    const before = options.sharedLog ? await store().headPosition() : null;
    const [left, right] = [newStream(), newStream()];
    const sent = [newEvents(left, 3), newEvents(right, 2)] as const;
    await store().append(left, sent[0].slice(0, 2), { kind: 'no_stream' });
    await store().append(right, sent[1], { kind: 'no_stream' });
    await store().append(left, sent[0].slice(2), { kind: 'exact', revision: 1 });
    const idsInOrder = [sent[0][0], sent[0][1], sent[1][0], sent[1][1], sent[0][2]].map(
      (e) => e?.id,
    );
    const mine = <T extends { stream: string }>(page: readonly T[]): T[] =>
      page.filter((event) => event.stream === left || event.stream === right);

    const page = await store().readAll({ afterPosition: before, eventCountMax: 1000 });
    expectIncreasing(page.map((event) => event.position));
    expect(mine(page).map((event) => event.id)).toEqual(idsInOrder);
    if (!options.sharedLog) expect(page).toHaveLength(5);

    const second = mine(page)[1];
    if (second === undefined) throw new Error('fixture');
    const rest = await store().readAll({ afterPosition: second.position, eventCountMax: 1000 });
    expect(mine(rest).map((event) => event.id)).toEqual(idsInOrder.slice(2));
    expect(rest.every((event) => event.position > second.position)).toBe(true);

    const bounded = await store().readAll({ afterPosition: before, eventCountMax: 2 });
    expect(bounded).toHaveLength(2);
    expect(bounded).toEqual(page.slice(0, 2));
    const last = mine(page)[4];
    if (!options.sharedLog && last) {
      expect(await store().readAll({ afterPosition: last.position, eventCountMax: 10 })).toEqual(
        [],
      );
    }
    if (options.sharedLog) {
      const start = await store().readAll({ afterPosition: null, eventCountMax: 2 });
      expect(start).toHaveLength(2);
      expectIncreasing(start.map((event) => event.position));
    }
  });

  it('reports the head position: null when empty, then the last appended position', async () => {
    if (!options.sharedLog) expect(await store().headPosition()).toBeNull();
    const stream = newStream();
    const result = appended(
      await store().append(stream, newEvents(stream, 2), { kind: 'no_stream' }),
    );
    const head = await store().headPosition();
    if (options.sharedLog) expect(head !== null && head >= result.lastPosition).toBe(true);
    else expect(head).toBe(result.lastPosition);
  });

  it("reads each stream's head in a page of the log: last revision, its hash, its count", async () => {
    const [a, b, marker] = [newStream(), newStream(), newStream()];
    const start = appended(
      await store().append(marker, newEvents(marker, 1), { kind: 'no_stream' }),
    );
    const firstA = seal(a, 3);
    await store().append(a, firstA.events, { kind: 'no_stream' });
    const ofB = appended(await store().append(b, newEvents(b, 2), { kind: 'no_stream' }));
    const moreA = seal(a, 2, firstA.tail);
    const end = appended(await store().append(a, moreA.events, { kind: 'exact', revision: 2 }));
    const hashOf = (events: readonly { metadata: { hash: string } }[], index: number) =>
      events[index]?.metadata.hash;
    const [b0, b1] = await readWhole(store(), b);
    const read = (
      untilPosition: bigint,
      eventCountMax: number,
      afterPosition = start.lastPosition,
    ) => store().readStreamHeads({ afterPosition, untilPosition, eventCountMax });
    expect(await read(end.lastPosition, 100)).toEqual({
      heads: [
        { stream: a, revision: 4, hash: hashOf(moreA.events, 1), eventCount: 5 },
        { stream: b, revision: 1, hash: b1?.metadata.hash, eventCount: 2 },
      ],
      eventCount: 7,
      lastPosition: end.lastPosition,
    });
    // Bounded by untilPosition, then by eventCountMax: the heads as they stood there.
    expect(await read(ofB.lastPosition, 100)).toEqual({
      heads: [
        { stream: a, revision: 2, hash: hashOf(firstA.events, 2), eventCount: 3 },
        { stream: b, revision: 1, hash: b1?.metadata.hash, eventCount: 2 },
      ],
      eventCount: 5,
      lastPosition: ofB.lastPosition,
    });
    expect(await read(end.lastPosition, 4)).toEqual({
      heads: [
        { stream: a, revision: 2, hash: hashOf(firstA.events, 2), eventCount: 3 },
        { stream: b, revision: 0, hash: b0?.metadata.hash, eventCount: 1 },
      ],
      eventCount: 4,
      lastPosition: b0?.position,
    });
    expect(await read(end.lastPosition, 100, end.lastPosition)).toEqual({
      heads: [],
      eventCount: 0,
      lastPosition: null,
    });
  });

  it('counts the events after a position, bounded, with when the first of them occurred', async () => {
    const stream = newStream();
    const events = newEvents(stream, 3);
    await store().append(stream, events, { kind: 'no_stream' });
    const [first, , last] = await readWhole(store(), stream);
    if (first === undefined || last === undefined) throw new Error('fixture');
    const behind = await store().countAfter({ afterPosition: first.position, eventCountMax: 100 });
    if (!options.sharedLog) expect(behind.eventCount).toBe(2);
    else expect(behind.eventCount).toBeGreaterThanOrEqual(2);
    expect(await store().countAfter({ afterPosition: first.position, eventCountMax: 1 })).toEqual({
      eventCount: 1,
      firstOccurredAt: events[1]?.metadata.occurredAt,
    });
    if (!options.sharedLog)
      expect(
        await store().countAfter({ afterPosition: last.position, eventCountMax: 100 }),
      ).toEqual({ eventCount: 0, firstOccurredAt: null });
  });
};
