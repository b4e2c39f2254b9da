/**
 * Channels that speak in major units ("88.88" yuan) meet our integer minor units here, by text
 * and never through a float, so 0.07 stays 7 and "1.005" is refused rather than rounded.
 */
const DECIMAL_PATTERN = /^(0|[1-9]\d{0,14})(?:\.(\d{1,4}))?$/;

/** Minor units of a non-negative decimal text with at most `fractionDigits` decimals; else null. */
export const decimalToMinor = (text: string, fractionDigits: number): number | null => {
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) return null;
  const fraction = match[2] ?? '';
  if (fraction.length > fractionDigits) return null;
  const minor = Number(`${match[1] ?? '0'}${fraction.padEnd(fractionDigits, '0')}`);
  return Number.isSafeInteger(minor) ? minor : null;
};

/** The decimal text of an amount in minor units, e.g. 8888 with 2 digits is "88.88". */
export const minorToDecimal = (amountMinor: number, fractionDigits: number): string => {
  if (fractionDigits === 0) return amountMinor.toString();
  const digits = amountMinor.toString().padStart(fractionDigits + 1, '0');
  return `${digits.slice(0, -fractionDigits)}.${digits.slice(-fractionDigits)}`;
};
