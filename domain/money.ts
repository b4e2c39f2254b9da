/**
 * Money is an integer count of minor units with an ISO-4217 currency. Amounts in commands and
 * events are positive safe integers; balances are kept below Number.MAX_SAFE_INTEGER by the
 * account decider, so no float and no precision loss anywhere.
 */
export type Currency = string;

const currencyCodes: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** ISO-4217 codes known to this runtime's ICU data (e.g. EUR, USD, CNY, JPY). */
export const knownCurrencies = (): readonly string[] => [...currencyCodes].sort();

export const isCurrency = (code: string): boolean => currencyCodes.has(code);

export const isPositiveAmountMinor = (amountMinor: number): boolean =>
  Number.isSafeInteger(amountMinor) && amountMinor > 0;

/** Adds two non-negative counters; null when the sum would leave the safe-integer range. */
export const addWithinSafeRange = (left: number, right: number): number | null => {
  const sum = left + right;
  return Number.isSafeInteger(sum) ? sum : null;
};

/** Digits of the currency's minor unit per ISO-4217 as ICU knows it: JPY 0, EUR 2, KWD 3. */
export const minorUnitDigits = (currency: Currency): number =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
    .maximumFractionDigits ?? 2;
