/** Read-your-writes: callers waiting until the live runner has applied a position. */
export const createPositionWaiters = (waiterCountMax: number) => {
  type Waiter = { position: bigint; settle: (passed: boolean) => void };
  const waiting = new Set<Waiter>();
  return {
    /** Resolves true when passed(p ≥ position) is called, false after timeoutMs or when full. */
    wait: (position: bigint, timeoutMs: number): Promise<boolean> => {
      if (waiting.size >= waiterCountMax) return Promise.resolve(false);
      return new Promise((resolve) => {
        const timer = setTimeout(() => waiter.settle(false), timeoutMs);
        const waiter: Waiter = {
          position,
          settle: (passed) => {
            clearTimeout(timer);
            waiting.delete(waiter);
            resolve(passed);
          },
        };
        waiting.add(waiter);
      });
    },
    passed: (position: bigint): void => {
      for (const waiter of waiting) if (waiter.position <= position) waiter.settle(true);
    },
    cancelAll: (): void => {
      for (const waiter of waiting) waiter.settle(false);
    },
  };
};
