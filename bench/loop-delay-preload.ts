import { appendFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';

/**
 * A bench-only diagnostic of the service's event loops (BENCH_LOOP_DELAY_DIR=<dir>): the credit
 * bench starts the service with `--require` of this file, which worker threads inherit, so that
 * every thread (the API thread, the read side, the WAL checkpoint thread) runs a timer every
 * LOOP_DELAY_TICK_MS and records how late each tick fired: its event loop's delay at that moment,
 * stamped with the monotonic clock (process.hrtime) the bench reads too. Lines "<atUs> <lateUs>"
 * go to <dir>/<pid>-<thread>.log every FLUSH_MS; the bench keeps the ticks of its measured window.
 */
export const LOOP_DELAY_TICK_MS = 5;
const FLUSH_MS = 500;
const NS_PER_US = 1000n;

const dir = process.env['BENCH_LOOP_DELAY_DIR'];
// The service's own threads only: its main thread runs `serve`, a worker its script.
if (dir !== undefined && (!isMainThread || process.argv.includes('serve'))) {
  // A worker's script is in its argv only once it runs (after this preload): named at the flush.
  const threadName = (): string =>
    isMainThread ? 'api' : `${basename(process.argv[1] ?? `worker${threadId}`, '.js')}`;
  let lines: string[] = [];
  let lastNs = process.hrtime.bigint();
  setInterval(() => {
    const nowNs = process.hrtime.bigint();
    const lateUs = Number((nowNs - lastNs) / NS_PER_US) - LOOP_DELAY_TICK_MS * 1000;
    lastNs = nowNs;
    lines.push(`${nowNs / NS_PER_US} ${Math.max(0, lateUs)}`);
  }, LOOP_DELAY_TICK_MS).unref();
  setInterval(() => {
    if (lines.length === 0) return;
    appendFileSync(join(dir, `${process.pid}-${threadName()}.log`), `${lines.join('\n')}\n`);
    lines = [];
  }, FLUSH_MS).unref();
}
