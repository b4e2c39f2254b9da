/**
 * How the read-side thread learns of the API thread's commits without polling: a counter in
 * shared memory that the writer bumps after each commit (Atomics.notify wakes a waiting reader at
 * once) and that the reader waits on with Atomics.waitAsync. Repeated commits while the reader is
 * busy coalesce into one wake-up: the reader then reads everything committed since.
 */
type AppendSignal = { cells: Int32Array; notify: () => void };

export const createAppendSignal = (): AppendSignal => {
  const cells = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  return {
    cells,
    notify: () => {
      Atomics.add(cells, 0, 1);
      Atomics.notify(cells, 0);
    },
  };
};

/** Atomics.waitAsync (Node ≥ 16), which TypeScript's ES2022 library does not declare. */
type WaitAsync = (
  cells: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Calls `listener` after each bump of the counter (coalesced); the returned function stops it. */
export const followAppendSignal = (cells: Int32Array, listener: () => void): (() => void) => {
  let stopped = false;
  let seen = Atomics.load(cells, 0);
  void (async () => {
    while (!stopped) {
      const waited = waitAsync(cells, 0, seen);
      if (waited.async) await waited.value;
      const now = Atomics.load(cells, 0);
      if (now !== seen && !stopped) {
        seen = now;
        listener();
      }
    }
  })();
  return () => {
    stopped = true;
    // Wakes this thread's own wait, so that the loop ends (other threads do not wait on it).
    Atomics.notify(cells, 0);
  };
};
