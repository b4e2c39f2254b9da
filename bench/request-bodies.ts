import { randomInt } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** The request bodies of the HTTP scenarios: every call returns a fresh, unique body. */
export const ACCOUNT_COUNT = 10_000;
export const HOT_ACCOUNT_ID = 'bench-hot';
export const CURRENCY = 'EUR';
export const RECORDS_PER_REPORT = 1_000;
const TRAFFIC_USER_COUNT = 100_000;

export const accountId = (index: number): string => `bench-${index}`;

/** Single-phase transfers from debit() to a random other account among the 10,000. */
export const transferBodies = (debit: () => string) => (): string => {
  const debitAccountId = debit();
  let creditAccountId = debitAccountId;
  while (creditAccountId === debitAccountId) creditAccountId = accountId(randomInt(ACCOUNT_COUNT));
  return JSON.stringify({
    transferId: uuidv7(),
    debitAccountId,
    creditAccountId,
    amountMinor: 1 + randomInt(10_000),
    currency: CURRENCY,
  });
};

/** Transfers between random distinct accounts among the 10,000. */
export const randomPairBodies = transferBodies(() => accountId(randomInt(ACCOUNT_COUNT)));

/** A traffic report of 1,000 records for random users among 100,000. */
export const reportBodies = (): string => {
  const records = Array.from({ length: RECORDS_PER_REPORT }, () => ({
    userId: `user-${randomInt(TRAFFIC_USER_COUNT)}`,
    uploadBytes: 1 + randomInt(1_000_000),
    downloadBytes: randomInt(10_000_000),
  }));
  return JSON.stringify({ reportId: uuidv7(), records });
};
