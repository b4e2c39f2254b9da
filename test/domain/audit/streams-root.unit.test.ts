import { createHash } from 'node:crypto';
import { streamsRootOf, type StreamHead } from '../../../domain/audit/log-checkpoint';
import {
  adoptStreamLeaves,
  emptyStreamLeaves,
  nextStreamLeaves,
  streamLeavesOf,
} from '../../../domain/audit/streams-root';

/** Runs a sliced computation to its end, counting its slices. */
const run = <T>(work: Generator<void, T>): { value: T; yieldCount: number } => {
  for (let yieldCount = 0; ; yieldCount += 1) {
    const step = work.next();
    if (step.done === true) return { value: step.value, yieldCount };
  }
};

/** A deterministic pseudo-random sequence (the test fails the same way every time). */
const randomOf = (seed: number) => {
  let state = seed;
  return (below: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % below;
  };
};

// Names from several categories, some beyond the Basic Multilingual Plane or in its upper range,
// where UTF-16 order (sort()) and UTF-8 order (SQLite) differ.
const nameOf = (index: number): string =>
  [`account-${index}`, `transfer-${index}`, `pay-\u{1F600}${index}`, `pay-\uFF5E${index}`][
    index % 4
  ] as string;

const headOf = (stream: string, revision: number): StreamHead => ({
  stream,
  revision,
  hash: createHash('sha256').update(`${stream}:${revision}`).digest('hex'),
});

describe('the streams root kept between checkpoints', () => {
  it('equals streamsRootOf over every head after random new and moved streams', () => {
    const random = randomOf(7);
    const all = new Map<string, StreamHead>();
    const leaves = emptyStreamLeaves();
    expect(run(nextStreamLeaves(leaves, [])).value.root).toBe(streamsRootOf(all));
    for (let sequence = 1; sequence <= 12; sequence += 1) {
      const changed = new Map<string, StreamHead>();
      const changedCount = 1 + random(sequence * 40);
      for (let index = 0; index < changedCount; index += 1) {
        const stream = nameOf(random(all.size + 60));
        const head = headOf(stream, (all.get(stream)?.revision ?? -1) + 1 + random(3));
        changed.set(stream, head);
      }
      for (const head of changed.values()) all.set(head.stream, head);
      const next = run(nextStreamLeaves(leaves, changed.values())).value;
      expect(next.root).toBe(streamsRootOf(all));
      expect(next.names).toHaveLength(all.size);
      adoptStreamLeaves(leaves, next, sequence);
    }
    expect(all.size).toBeGreaterThan(100);
  });

  it('leaves the kept leaves as they were until the outcome is adopted', () => {
    const leaves = emptyStreamLeaves();
    adoptStreamLeaves(leaves, run(nextStreamLeaves(leaves, [headOf('a', 0)])).value, 1);
    const before = run(nextStreamLeaves(leaves, [])).value.root;
    run(nextStreamLeaves(leaves, [headOf('a', 1), headOf('b', 0)]));
    expect(run(nextStreamLeaves(leaves, [])).value.root).toBe(before);
    expect(leaves.names).toEqual(['a']);
  });

  it('loads heads read in another order (SQLite sorts by UTF-8) into the same tree', () => {
    const heads = [0, 1, 2, 3, 4, 5, 6, 7].map((index) => headOf(nameOf(index), index));
    const utf8Order = [...heads].sort((left, right) =>
      Buffer.compare(Buffer.from(left.stream), Buffer.from(right.stream)),
    );
    const loaded = run(streamLeavesOf(3, utf8Order)).value;
    expect(loaded.sequence).toBe(3);
    const all = new Map(heads.map((head) => [head.stream, head]));
    expect(run(nextStreamLeaves(loaded, [])).value.root).toBe(streamsRootOf(all));
  });

  it('yields every few units of work, so no slice hashes the whole tree', () => {
    const heads = Array.from({ length: 5_000 }, (_, index) => headOf(`s-${index}`, 0));
    const { value, yieldCount } = run(nextStreamLeaves(emptyStreamLeaves(), heads));
    expect(value.root).toBe(streamsRootOf(new Map(heads.map((head) => [head.stream, head]))));
    // 5,000 leaves, 5,000 names merged, 4,999 inner nodes: one yield per 64 units.
    expect(yieldCount).toBeGreaterThanOrEqual(Math.floor(14_999 / 64));
  });
});
