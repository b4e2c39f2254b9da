/**
 * How the read-side thread learns of the API thread's commits without polling: a counter in
 * shared memory that the writer bumps after each commit, and that the reader waits on with
 * Atomics.waitAsync. Beside the counter, the reader raises a flag just before it waits; the writer
 * calls Atomics.notify (a lock and a cross-thread wake-up) only when the flag is up, and lowers it,
 * so a burst of commits costs one wake-up, and commits made while the reader is busy cost none:
 * the reader then reads everything committed since. Sequentially consistent atomics close the
 * race: either the writer sees the flag raised, or the reader sees the bumped counter (and
 * waitAsync, which compares the counter atomically, returns at once).
 */
type AppendSignal = { cells: Int32Array; notify: () => void };

const COUNTER = 0;
const WAITING = 1;

export const createAppendSignal = (): AppendSignal => {
  const cells = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  return {
    cells,
    notify: () => {
      Atomics.add(cells, COUNTER, 1);
      if (Atomics.compareExchange(cells, WAITING, 1, 0) === 1) Atomics.notify(cells, COUNTER);
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
  let seen = Atomics.load(cells, COUNTER);
  void (async () => {
    while (!stopped) {
      Atomics.store(cells, WAITING, 1);
      const waited = waitAsync(cells, COUNTER, seen);
      if (waited.async) await waited.value;
      const now = Atomics.load(cells, COUNTER);
      if (now !== seen && !stopped) {
        seen = now;
        listener();
      }
    }
  })();
  return () => {
    stopped = true;
    // Wakes this thread's own wait, so that the loop ends (other threads do not wait on it).
    Atomics.notify(cells, COUNTER);
  };
};
