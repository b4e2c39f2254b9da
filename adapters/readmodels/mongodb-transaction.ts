import { MongoError, MongoErrorLabel, type ClientSession, type TransactionOptions } from 'mongodb';

/** What a transaction needs of a ClientSession: a seam, so that its retry rules are unit-tested. */
export type TransactionSession = Pick<
  ClientSession,
  'startTransaction' | 'commitTransaction' | 'abortTransaction' | 'inTransaction'
>;

export type TransactionClock = {
  nowMs: () => number;
  /** Waits before attempt number `attempt` + 1. */
  pause: (attempt: number) => Promise<void>;
};

const hasLabel = (error: unknown, label: string): boolean =>
  error instanceof MongoError && error.hasErrorLabel(label);

/** MaxTimeMSExpired: the commit ran out of maxCommitTimeMS, and retrying it would too. */
const isCommitTimeExpired = (error: unknown): boolean =>
  error instanceof MongoError && Number(error.code) === 50;

/** True once committed; false when the server asks for the whole transaction again. */
const commitWithin = async (
  session: TransactionSession,
  timeLeft: () => boolean,
): Promise<boolean> => {
  for (;;) {
    try {
      await session.commitTransaction();
      return true;
    } catch (error: unknown) {
      if (!timeLeft()) throw error;
      const unknownResult = hasLabel(error, MongoErrorLabel.UnknownTransactionCommitResult);
      if (unknownResult && !isCommitTimeExpired(error)) continue;
      if (hasLabel(error, MongoErrorLabel.TransientTransactionError)) return false;
      throw error;
    }
  }
};

/**
 * Runs work in a transaction with ClientSession.withTransaction's retry rules (the whole
 * transaction again after a TransientTransactionError, the commit again after an
 * UnknownTransactionCommitResult), but only until timeoutMs has passed. withTransaction itself
 * retries for a fixed 120 s: driver 7 ignores its timeoutMS option. The last error is thrown as
 * it is; the caller maps it.
 */
export const runTransaction = async (
  session: TransactionSession,
  work: () => Promise<void>,
  options: { transaction: TransactionOptions; timeoutMs: number; clock: TransactionClock },
): Promise<void> => {
  const deadlineMs = options.clock.nowMs() + options.timeoutMs;
  const timeLeft = (): boolean => options.clock.nowMs() < deadlineMs;
  for (let attempt = 1; ; attempt += 1) {
    session.startTransaction(options.transaction);
    try {
      await work();
    } catch (error: unknown) {
      if (session.inTransaction()) await session.abortTransaction();
      if (!(hasLabel(error, MongoErrorLabel.TransientTransactionError) && timeLeft())) throw error;
      await options.clock.pause(attempt);
      continue;
    }
    if (await commitWithin(session, timeLeft)) return;
    await options.clock.pause(attempt);
  }
};
