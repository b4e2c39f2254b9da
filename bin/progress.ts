import { Presets, SingleBar } from 'cli-progress';

/**
 * Progress of a long CLI command on stderr (stdout carries its result): a bar on a terminal,
 * plain lines at most every `lineEveryMs` otherwise (CI logs, files), and a last line when done.
 */
type Progress = {
  /** `eventCount` events done, the last at `position` of the global log. */
  advance: (eventCount: number, position: bigint | null) => void;
  /** Writes the last line ('done' or 'failed') and releases the terminal. */
  finish: (outcome: 'done' | 'failed') => void;
};

type ProgressOptions = {
  label: string;
  /** Where the work ends in the log (its head when it started); null: unknown. */
  endPosition: bigint | null;
  /** What is counted: 'events' unless told. */
  unit?: string;
  lineEveryMs: number;
  output?: { isTTY?: boolean; write: (text: string) => unknown };
  nowMs?: () => number;
};

/** The share of the work done, as a whole percentage (100 when the end is unknown or 0). */
export const percentOf = (position: bigint | null, endPosition: bigint | null): number =>
  endPosition === null || endPosition <= 0n || position === null
    ? 100
    : Math.min(100, Number((position * 100n) / endPosition));

export const startProgress = (options: ProgressOptions): Progress => {
  const output = options.output ?? process.stderr;
  return output.isTTY === true ? barProgress(options) : lineProgress(options, output);
};

const barProgress = (options: ProgressOptions): Progress => {
  const bar = new SingleBar(
    {
      format: `${options.label} [{bar}] {percentage}% | {events} ${options.unit ?? 'events'} | ETA {eta}s`,
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const total = options.endPosition === null ? 1 : Math.max(1, Number(options.endPosition));
  bar.start(total, 0, { events: 0 });
  let done = 0;
  return {
    advance: (eventCount, position) => {
      done = eventCount;
      const value = position === null ? total : Math.min(total, Number(position));
      bar.update(value, { events: eventCount });
    },
    finish: (outcome) => {
      if (outcome === 'done') bar.update(total, { events: done });
      bar.stop();
    },
  };
};

const lineProgress = (
  options: ProgressOptions,
  output: { write: (text: string) => unknown },
): Progress => {
  const nowMs = options.nowMs ?? Date.now;
  const startedMs = nowMs();
  let lastLineMs = startedMs;
  let done = 0;
  return {
    advance: (eventCount, position) => {
      done = eventCount;
      const now = nowMs();
      if (now - lastLineMs < options.lineEveryMs) return;
      lastLineMs = now;
      const percent = percentOf(position, options.endPosition);
      output.write(`${options.label}: ${eventCount} ${options.unit ?? 'events'}, ${percent}%\n`);
    },
    finish: (outcome) => {
      const seconds = ((nowMs() - startedMs) / 1000).toFixed(1);
      output.write(
        `${options.label}: ${outcome}, ${done} ${options.unit ?? 'events'} in ${seconds} s\n`,
      );
    },
  };
};
