/**
 * HTTP Retry-After counts whole seconds, and a full mailbox drains within a few appends, so the
 * smallest value it can express is the honest hint.
 */
export const MAILBOX_RETRY_AFTER_MS = 1_000;

/** The actor's mailbox holds mailboxDepthMax commands: overload, the API answers 503. */
export class MailboxFullError extends Error {
  override readonly name = 'MailboxFullError';

  constructor(
    readonly stream: string,
    readonly retryAfterMs: number,
  ) {
    super(`mailbox of ${stream} is full`);
  }
}

/** Another writer kept winning the stream: every attempt conflicted, the API answers 409. */
export class ConflictRetriesExhaustedError extends Error {
  override readonly name = 'ConflictRetriesExhaustedError';

  constructor(
    readonly stream: string,
    readonly attemptCount: number,
  ) {
    super(`${stream}: revision conflict on each of ${attemptCount} append attempts`);
  }
}
