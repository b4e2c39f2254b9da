import { randomInt } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** The request bodies of the HTTP scenarios: every call returns a fresh, unique body. */
export const ACCOUNT_COUNT = 10_000;
export const HOT_ACCOUNT_ID = 'bench-hot';
export const CURRENCY = 'EUR';
export const RECORDS_PER_REPORT = 1_000;
const TRAFFIC_USER_COUNT = 100_000;

export const accountId = (index: number): string => `bench-${index}`;

const randomAccountId = (): string => accountId(randomInt(ACCOUNT_COUNT));

/** A single-phase transfer from debit() to a random other account among the 10,000. */
const transferTerms = (debitAccountId: string) => {
  let creditAccountId = debitAccountId;
  while (creditAccountId === debitAccountId) creditAccountId = randomAccountId();
  return {
    transferId: uuidv7(),
    debitAccountId,
    creditAccountId,
    amountMinor: 1 + randomInt(10_000),
    currency: CURRENCY,
  };
};

/** Bodies of POST /v1/transfers, debiting debit(). */
export const transferBodies = (debit: () => string) => (): string =>
  JSON.stringify(transferTerms(debit()));

/** Transfers between random distinct accounts among the 10,000. */
export const randomPairBodies = transferBodies(randomAccountId);

/** Bodies of POST /v1/transfers/batch: `count` transfers between random distinct accounts. */
export const batchBodies = (count: number) => (): string =>
  JSON.stringify({
    transfers: Array.from({ length: count }, () => transferTerms(randomAccountId())),
  });

/** A traffic report of 1,000 records for random users among 100,000. */
export const reportBodies = (): string => {
  const records = Array.from({ length: RECORDS_PER_REPORT }, () => ({
    userId: `user-${randomInt(TRAFFIC_USER_COUNT)}`,
    uploadBytes: 1 + randomInt(1_000_000),
    downloadBytes: randomInt(10_000_000),
  }));
  return JSON.stringify({ reportId: uuidv7(), records });
};
