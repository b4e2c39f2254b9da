import { createCheckpointPolicy } from '../../bin/checkpoint-policy';

describe('the WAL checkpoint policy', () => {
  const limits = { intervalMs: 1000, walPagesMax: 4096 };
  const clock = () => {
    let nowMs = 0;
    return { nowMs: () => nowMs, advance: (ms: number) => (nowMs += ms) };
  };

  it('checkpoints a file whose WAL grew once the interval has passed since its last checkpoint', () => {
    const time = clock();
    const policy = createCheckpointPolicy(limits, time.nowMs);
    expect(policy.due('a', { log: 10, checkpointed: 0 })).toBe(false);
    time.advance(999);
    expect(policy.due('a', { log: 50, checkpointed: 0 })).toBe(false);
    time.advance(1);
    expect(policy.due('a', { log: 50, checkpointed: 0 })).toBe(true);
    policy.checkpointed('a');
    time.advance(999);
    expect(policy.due('a', { log: 80, checkpointed: 50 })).toBe(false);
    time.advance(1);
    expect(policy.due('a', { log: 80, checkpointed: 50 })).toBe(true);
  });

  it('leaves alone a file with nothing to copy, however long ago its last checkpoint was', () => {
    const time = clock();
    const policy = createCheckpointPolicy(limits, time.nowMs);
    policy.checkpointed('a');
    time.advance(60_000);
    expect(policy.due('a', { log: 80, checkpointed: 80 })).toBe(false);
    expect(policy.due('a', { log: 0, checkpointed: 0 })).toBe(false);
    expect(policy.due('a', { log: -1, checkpointed: -1 })).toBe(false); // Not in WAL mode.
  });

  it('checkpoints at once when walPagesMax frames wait, and keeps each file apart', () => {
    const time = clock();
    const policy = createCheckpointPolicy(limits, time.nowMs);
    policy.checkpointed('a');
    policy.checkpointed('b');
    expect(policy.due('a', { log: 4095 + 7, checkpointed: 7 })).toBe(false);
    expect(policy.due('a', { log: 4096 + 7, checkpointed: 7 })).toBe(true);
    expect(policy.due('b', { log: 100, checkpointed: 0 })).toBe(false);
  });
});
