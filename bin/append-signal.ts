/**
 * How the read-side thread learns of the API thread's commits without polling: a counter in
 * shared memory that the writer bumps after each commit, and that the reader waits on with
 * Atomics.waitAsync. Beside the counter, the reader raises a flag just before it waits; the writer
 * calls Atomics.notify (a lock and a cross-thread wake-up) only when the flag is up, and lowers it,
 * so a burst of commits costs one wake-up, and commits made while the reader is busy cost none:
 * the reader then reads everything committed since. Sequentially consistent atomics close the
 * race: either the writer sees the flag raised, or the reader sees the bumped counter (and
 * waitAsync, which compares the counter atomically, returns at once).
 *
 * The same memory carries the writer's durable head: the highest position an fdatasync of the
 * WAL covers (adapters/sqlite/wal-sync.ts), stored before the counter is bumped. The reader
 * reads no row past it (durableHeadOf), so nothing committed and not yet durable is seen on the
 * read side; a row past it is read at the next signal, which follows its sync.
 */
type AppendSignal = { cells: Int32Array; notify: (durableHead: bigint) => void };

const COUNTER = 0;
const WAITING = 1;
/** The durable head's cell: a BigInt64 after the two Int32 cells. */
const DURABLE_HEAD_BYTE_OFFSET = 2 * Int32Array.BYTES_PER_ELEMENT;

const durableHeadCell = (cells: Int32Array): BigInt64Array =>
  new BigInt64Array(cells.buffer, DURABLE_HEAD_BYTE_OFFSET, 1);

/** The durable head starts at 0 (nothing readable) until the writer's store publishes its own. */
export const createAppendSignal = (): AppendSignal => {
  const buffer = new SharedArrayBuffer(DURABLE_HEAD_BYTE_OFFSET + BigInt64Array.BYTES_PER_ELEMENT);
  const cells = new Int32Array(buffer, 0, 2);
  const durableHead = durableHeadCell(cells);
  return {
    cells,
    notify: (head) => {
      Atomics.store(durableHead, 0, head); // Before the bump: a woken reader sees it.
      Atomics.add(cells, COUNTER, 1);
      if (Atomics.compareExchange(cells, WAITING, 1, 0) === 1) Atomics.notify(cells, COUNTER);
    },
  };
};

/** The reader's view of the writer's durable head (read it before each read of the log). */
export const durableHeadOf = (cells: Int32Array): (() => bigint) => {
  const durableHead = durableHeadCell(cells);
  return () => Atomics.load(durableHead, 0);
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
