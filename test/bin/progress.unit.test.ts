import { percentOf, startProgress } from '../../bin/progress';

const plainOutput = () => {
  const written: string[] = [];
  return { written, output: { isTTY: false, write: (text: string) => written.push(text) } };
};

describe('progress of a long command off a terminal', () => {
  it('writes a plain line at most every lineEveryMs, then a last line', () => {
    let nowMs = 0;
    const { written, output } = plainOutput();
    const progress = startProgress({
      label: 'audit verify',
      endPosition: 4000n,
      lineEveryMs: 2000,
      output,
      nowMs: () => nowMs,
    });
    nowMs = 1000;
    progress.advance(1000, 1000n);
    nowMs = 2000;
    progress.advance(2000, 2000n);
    nowMs = 3000;
    progress.advance(3000, 3000n);
    nowMs = 4500;
    progress.advance(4000, 4000n);
    progress.finish('done');
    expect(written).toEqual([
      'audit verify: 2000 events, 50%\n',
      'audit verify: 4000 events, 100%\n',
      'audit verify: done, 4000 events in 4.5 s\n',
    ]);
  });

  it('says so when the work failed, in the unit it counts', () => {
    const { written, output } = plainOutput();
    const progress = startProgress({
      label: 'audit snapshots',
      endPosition: null,
      unit: 'snapshots',
      lineEveryMs: 0,
      output,
      nowMs: () => 0,
    });
    progress.advance(3, null);
    progress.finish('failed');
    expect(written).toEqual([
      'audit snapshots: 3 snapshots, 100%\n',
      'audit snapshots: failed, 3 snapshots in 0.0 s\n',
    ]);
  });

  it('takes the share done from position over the end position', () => {
    expect(percentOf(50n, 100n)).toBe(50);
    expect(percentOf(1n, 3n)).toBe(33);
    expect(percentOf(150n, 100n)).toBe(100);
    expect(percentOf(null, 100n)).toBe(100);
    expect(percentOf(5n, null)).toBe(100);
  });
});
