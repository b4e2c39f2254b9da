/**
 * Waits for a positive signal: calls `check` until it returns a value other than undefined (or
 * stops throwing), and throws at the deadline with the last reason. Never prove absence by
 * sleeping: wait for the event, position or state that shows what happened.
 */
export const eventually = async <T>(
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<T> => {
  const deadline = Date.now() + options.timeoutMs;
  let lastReason = 'never checked';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      lastReason = 'not yet';
    } catch (error: unknown) {
      lastReason = String(error);
    }
    if (Date.now() > deadline)
      throw new Error(
        `eventually: ${options.what} not within ${options.timeoutMs} ms (${lastReason})`,
      );
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
};

/** eventually() for a condition: resolves once `condition` holds, throws at the deadline. */
export const eventuallyTrue = async (
  condition: () => Promise<boolean> | boolean,
  options: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<void> => {
  await eventually(async () => ((await condition()) ? true : undefined), options);
};
