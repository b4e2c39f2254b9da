import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOOP_DELAY_TICK_MS } from './loop-delay-preload';

/**
 * The reading side of bench/loop-delay-preload.ts: with BENCH_LOOP_DELAY_DIR set, the service is
 * started with the preload, and each thread's delays within a window are summed up in the note.
 */
const STALL_MS = 20;
const FLUSH_WAIT_MS = 700;

/** The node flags that preload the recorder into the service (none without the directory). */
export const loopDelayFlags = (dir: string | null): string[] =>
  dir === null ? [] : ['--require', join(__dirname, 'loop-delay-preload.js')];

/** Each thread's tick delays (ms) stamped within [fromUs, toUs], from every file in `dir`. */
const delaysByThread = (dir: string, fromUs: bigint, toUs: bigint): Map<string, number[]> => {
  const byThread = new Map<string, number[]>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.log'))) {
    const thread = file.slice(file.indexOf('-') + 1, -'.log'.length);
    const delays = byThread.get(thread) ?? [];
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const [atUs, lateUs] = line.split(' ');
      if (atUs === undefined || lateUs === undefined || atUs === '') continue;
      const at = BigInt(atUs);
      if (at >= fromUs && at <= toUs) delays.push(Number(lateUs) / 1000);
    }
    if (delays.length > 0) byThread.set(thread, delays);
  }
  return byThread;
};

/**
 * "service event loop delay ...: api p99 x ms, max y ms, n ticks > 20 ms; ..." over the window,
 * once the preload has flushed; '' without the directory.
 */
export const loopDelayNote = async (
  dir: string | null,
  fromUs: bigint,
  toUs: bigint,
): Promise<string> => {
  if (dir === null) return '';
  await new Promise((resolve) => setTimeout(resolve, FLUSH_WAIT_MS));
  const threads = [...delaysByThread(dir, fromUs, toUs)].map(([thread, delays]) => {
    const sorted = delays.sort((left, right) => left - right);
    const p99 = sorted[Math.floor(0.99 * (sorted.length - 1))] ?? 0;
    const max = sorted[sorted.length - 1] ?? 0;
    const stalls = sorted.filter((delay) => delay > STALL_MS).length;
    return `${thread} p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms, ${stalls} ticks > ${STALL_MS} ms`;
  });
  return `service event loop delay (a ${LOOP_DELAY_TICK_MS}-ms timer per thread): ${threads.join('; ')}`;
};
