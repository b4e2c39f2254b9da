/**
 * What must be undone if the bench is interrupted (Ctrl-C, SIGTERM): child servers to stop and
 * temp dirs to remove. Normal runs undo their own work in `finally` and unregister it.
 */
type Cleanup = () => Promise<void> | void;

const pending = new Set<Cleanup>();

/** Registers a cleanup; returns the function that unregisters it. */
export const onInterrupt = (cleanup: Cleanup): (() => void) => {
  pending.add(cleanup);
  return () => pending.delete(cleanup);
};

/** On SIGINT or SIGTERM: run every pending cleanup once, then exit 130. */
export const installInterruptHandlers = (): void => {
  const interrupt = (): void => {
    process.stderr.write('bench interrupted: cleaning up\n');
    const running = [...pending].map((cleanup) => Promise.resolve().then(cleanup));
    pending.clear();
    void Promise.allSettled(running).then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
};
