import { InvalidArgumentError, type Command } from 'commander';
import { startProgress } from './progress';

/**
 * What every long command of the `ledger` CLI shares: progress on stderr and, with `--json`, one
 * JSON document with its result on stdout instead of the human summary.
 */
export type LongCommandOptions = { json?: boolean; progressEveryMs: number };

const PROGRESS_EVERY_MS_DEFAULT = 2000;

export const positiveInteger = (value: string): number => {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('must be a positive integer');
  return parsed;
};

export const positionArgument = (value: string): bigint => {
  if (!/^[0-9]{1,20}$/.test(value))
    throw new InvalidArgumentError('must be a log position (digits)');
  return BigInt(value);
};

const milliseconds = (value: string): number => {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed)) throw new InvalidArgumentError('must be milliseconds (>= 0)');
  return parsed;
};

/** Adds `--json` and `--progress-every-ms` to a command. */
export const longCommand = (command: Command): Command =>
  command
    .option('--json', 'print the result as one JSON document on stdout')
    .option(
      '--progress-every-ms <ms>',
      'interval of the progress lines on stderr when it is not a terminal',
      milliseconds,
      PROGRESS_EVERY_MS_DEFAULT,
    );

/** JSON with bigints as decimal strings. */
const jsonText = (value: unknown, indent?: number): string =>
  JSON.stringify(
    value,
    (_key, field: unknown) => (typeof field === 'bigint' ? field.toString() : field),
    indent,
  );

/** The result: one JSON line with `--json`, else the human summary. */
export const printResult = (
  options: LongCommandOptions,
  result: unknown,
  summary: () => string,
): void => {
  process.stdout.write(options.json === true ? `${jsonText(result)}\n` : summary());
};

/** Runs `work` with progress on stderr up to `endPosition` (the log's head, usually). */
export const withProgress = async <T>(
  options: LongCommandOptions,
  what: { label: string; endPosition: bigint | null; unit?: string },
  work: (onProgress: (eventCount: number, position: bigint | null) => void) => Promise<T>,
): Promise<T> => {
  const progress = startProgress({ ...what, lineEveryMs: options.progressEveryMs });
  try {
    const result = await work((eventCount, position) => progress.advance(eventCount, position));
    progress.finish('done');
    return result;
  } catch (error: unknown) {
    progress.finish('failed');
    throw error;
  }
};
