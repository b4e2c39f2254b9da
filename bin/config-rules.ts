/** The rules bin/config.ts and its channel and messaging parts check variables with. */

/** A bad environment variable: the message names it and the rule, never a secret's value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A variable's trimmed value; an empty variable means unset, as compose files write it. */
export type ReadVariable = (name: string) => string | null;

export const variableReader =
  (env: Readonly<Record<string, string | undefined>>): ReadVariable =>
  (name) => {
    const value = env[name]?.trim() ?? '';
    return value === '' ? null : value;
  };

/** A decimal integer within [min, max], or `fallback` when unset. */
export const integerVariable = (
  read: ReadVariable,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number => {
  const text = read(name);
  if (text === null) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new ConfigError(`${name} must be an integer ${range.min}-${range.max}, got '${text}'`);
  }
  return value;
};

/** One of `choices`, or `fallback` when unset. */
export const choiceVariable = <Choice extends string>(
  read: ReadVariable,
  name: string,
  choices: readonly Choice[],
  fallback: Choice,
): Choice => {
  const text = read(name) ?? fallback;
  const choice = choices.find((known) => known === text);
  if (choice === undefined) {
    throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got '${text}'`);
  }
  return choice;
};

/** A URL matching `pattern`; the message never echoes it, as it may carry credentials. */
export const urlVariable = (
  read: ReadVariable,
  name: string,
  pattern: RegExp,
  rule: string,
): string | null => {
  const text = read(name);
  if (text !== null && !pattern.test(text)) throw new ConfigError(`${name} must ${rule}`);
  return text;
};
