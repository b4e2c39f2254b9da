import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU time a process has used so far: all its threads, and its main thread alone. */
export type ProcessCpu = { processMs: number; mainThreadMs: number };

let clockTicksPerS: number | null = null;
const ticksPerS = (): number => {
  clockTicksPerS ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return clockTicksPerS;
};

/** utime + stime of a /proc stat file, in ms; the fields after the ")" that ends the name. */
const statCpuMs = (path: string): number => {
  const fields = readFileSync(path, 'utf8').split(')').pop()?.trim().split(' ') ?? [];
  // After the name: state is field 3 of stat(5), utime 14 and stime 15, i.e. indexes 11 and 12.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / ticksPerS();
};

/** Linux /proc only; null elsewhere, so the bench still runs without the CPU figures. */
export const processCpu = (pid: number | undefined): ProcessCpu | null => {
  if (pid === undefined || process.platform !== 'linux') return null;
  try {
    return {
      processMs: statCpuMs(`/proc/${pid}/stat`),
      mainThreadMs: statCpuMs(`/proc/${pid}/task/${pid}/stat`),
    };
  } catch {
    return null;
  }
};

/** "process CPU x µs/request (main thread y)" between two readings; '' when either is missing. */
export const cpuPerRequestNote = (
  before: ProcessCpu | null,
  after: ProcessCpu | null,
  requestCount: number,
): string => {
  if (before === null || after === null || requestCount === 0) return '';
  const per = (ms: number): string =>
    Math.round((ms * 1000) / requestCount).toLocaleString('en-US');
  const processMs = after.processMs - before.processMs;
  const mainThreadMs = after.mainThreadMs - before.mainThreadMs;
  return `process CPU ${per(processMs)} µs/request (main thread ${per(mainThreadMs)})`;
};
