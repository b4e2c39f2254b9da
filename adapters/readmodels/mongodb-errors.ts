import {
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
} from 'mongodb';
import { UnavailableError } from '../../domain/ports/event-store.port';

/**
 * Server codes that mean "no usable primary now, or it did not answer in time": the codes the
 * driver itself retries once (failover, shutdown, a network fault seen by the server), a majority
 * write concern not reached within wtimeoutMS, and a commit past maxCommitTimeMS.
 */
const OUTAGE_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  64, // WriteConcernTimeout (WriteConcernFailed before MongoDB 8.1)
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Labels that say the same call may succeed later: the failure is the deployment's, not ours. */
const OUTAGE_LABELS: readonly string[] = [
  MongoErrorLabel.TransientTransactionError,
  MongoErrorLabel.UnknownTransactionCommitResult,
  MongoErrorLabel.RetryableWriteError,
  MongoErrorLabel.SystemOverloadedError,
];

/** Network, server selection and timeout errors, and server errors coded or labelled as such. */
export const isOutage = (error: unknown): boolean =>
  error instanceof MongoNetworkError || // Also its timeout and pool-cleared subclasses.
  error instanceof MongoServerSelectionError ||
  error instanceof MongoOperationTimeoutError ||
  (error instanceof MongoError &&
    (OUTAGE_LABELS.some((label) => error.hasErrorLabel(label)) ||
      OUTAGE_CODES.has(Number(error.code))));

/** An outage becomes the port's UnavailableError (503, a stale projection); the rest are bugs. */
export const toPortError = (error: unknown): unknown =>
  isOutage(error)
    ? new UnavailableError(`MongoDB unavailable: ${(error as Error).message}`, { cause: error })
    : error;

/** Runs one store operation, turning an outage anywhere in it into UnavailableError. */
export const guarded = <T>(operation: () => Promise<T>): Promise<T> =>
  operation().catch((error: unknown) => {
    throw toPortError(error);
  });

/** createCollection's answer for a collection that exists; every other error is rethrown. */
export const ignoreNamespaceExists = (error: unknown): void => {
  if (!(error instanceof MongoServerError && error.code === 48)) throw error;
};
