import { readFileSync } from 'node:fs';
import { LOOP_DELAY_TICK_MS } from './loop-delay-preload';

/**
 * What ran while a thread's event loop stalled: `node dist/bench/profile-stalls.js <profile>
 * <loop-delay log> [stallMs]` reads a V8 CPU profile of one thread (BENCH_CPU_PROF_DIR) and that
 * thread's tick log from the same run (BENCH_LOOP_DELAY_DIR, both on the monotonic clock), and
 * prints, for each tick late by more than stallMs (default 20), the functions with the most
 * sampled time (inclusive, ms) between the tick it should have fired at and the one it fired at.
 */
type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type Profile = { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] };

/** Frames every task has at its base: they say nothing about which task it was. */
const PLUMBING =
  /^\((root|program|idle)\)|^ :|processTicksAndRejections|listOnTimeout|processTimers|runMicrotasks|runNextTicks|processImmediate|^emit node:|onceWrapper/;
const FRAMES_SHOWN = 6;

const frameName = ({ callFrame }: ProfileNode): string =>
  `${callFrame.functionName} ${callFrame.url.split('/').slice(-2).join('/')}:${callFrame.lineNumber + 1}`;

const main = (): void => {
  const [profilePath, logPath, stallMsText] = process.argv.slice(2);
  if (profilePath === undefined || logPath === undefined)
    throw new Error('usage: profile-stalls <cpuprofile> <loop-delay log> [stallMs]');
  const stallMs = Number(stallMsText ?? 20);
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  const sampleAtUs: number[] = [];
  let atUs = profile.startTime;
  profile.timeDeltas.forEach((deltaUs) => sampleAtUs.push((atUs += deltaUs)));
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    const [endText, lateText] = line.split(' ');
    const lateMs = Number(lateText) / 1000;
    if (endText === undefined || endText === '' || !(lateMs > stallMs)) continue;
    const endUs = Number(endText);
    const fromUs = endUs - (lateMs + LOOP_DELAY_TICK_MS) * 1000;
    const inclusiveMs = new Map<string, number>();
    profile.samples.forEach((id, index) => {
      const at = sampleAtUs[index] ?? 0;
      if (at < fromUs || at > endUs) return;
      const weightMs = (profile.timeDeltas[index + 1] ?? 0) / 1000;
      const seen = new Set<string>();
      for (
        let node = nodes.get(id);
        node !== undefined;
        node = nodes.get(parents.get(node.id) ?? -1)
      ) {
        const name = frameName(node);
        if (seen.has(name) || PLUMBING.test(name)) continue;
        seen.add(name);
        inclusiveMs.set(name, (inclusiveMs.get(name) ?? 0) + weightMs);
      }
    });
    const top = [...inclusiveMs]
      .sort(([, left], [, right]) => right - left)
      .slice(0, FRAMES_SHOWN)
      .map(([name, ms]) => `${name} ${ms.toFixed(1)}`);
    const offsetMs = ((endUs - profile.startTime) / 1000).toFixed(0);
    process.stdout.write(`+${offsetMs} ms, ${lateMs.toFixed(1)} ms late: ${top.join(' | ')}\n`);
  }
};

main();
